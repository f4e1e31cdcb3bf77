#pragma once
// What one probe saw, as plain values. Filled by the HTTP adapter, judged by assertions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace envprobe {

// Why a probe failed before any assertion could run (transport level).
enum class TransportError {
  None,
  DnsNxdomain,
  DnsServfail,
  DnsRefused,
  DnsTimeout,
  DnsOther,
  Connect,
  Tls,
  Timeout,
  BodyTooLarge,
  Redirects,
  Other,
};

struct PhaseTimes {  // seconds, blackbox_exporter's phases
  double resolve = 0;
  double connect = 0;
  double tls = 0;
  double processing = 0;
  double transfer = 0;
};

struct CertificateFacts {
  bool present = false;
  std::int64_t earliestExpiryUnix = 0;  // notAfter of the soonest-expiring cert in the chain
  bool verified = false;
};

// The TLS connection of the final response (HTTPS only), as blackbox_exporter reports it. Text
// fields are valid UTF-8 and bounded (kMaxTlsLabelBytes) where they come from the certificate.
struct TlsFacts {
  static constexpr std::size_t kMaxTlsLabelBytes = 512;
  bool present = false;            // a response came over TLS
  std::string version;             // "TLS 1.3", "TLS 1.2", "TLS 1.1", "TLS 1.0" or "unknown"
  std::string fingerprintSha256;   // the leaf's DER, SHA-256, lowercase hex
  std::string subject;             // the leaf's, as Go prints a distinguished name
  std::string issuer;              // likewise
  std::string subjectAlternative;  // the leaf's DNS names, comma-joined
  std::string serialNumber;        // lowercase hex, no leading zeros
  bool chainVerified = false;      // the chain verified (not so with insecure_skip_verify
                                   // and an untrusted certificate)
  std::int64_t lastChainExpiryUnix = 0;  // earliest notAfter in the verified chain

  bool operator==(const TlsFacts&) const = default;
};

struct Observation {
  TransportError transportError = TransportError::None;
  std::string transportDetail;  // curl / c-ares message
  int statusCode = 0;
  double httpVersion = 0;  // 1.0, 1.1, 2
  std::vector<std::pair<std::string, std::string>> headers;  // last response only
  std::string body;  // truncated at the body limit
  std::int64_t contentLength = -1;
  std::int64_t uncompressedBodyLength = 0;  // body bytes after content decoding
  int redirects = 0;
  std::string redirectUrl;  // a 3xx hop's Location made absolute; followed by the prober
  bool ssl = false;
  CertificateFacts cert;
  TlsFacts tls;
  PhaseTimes phases;
  double durationSeconds = 0;  // whole probe, including DNS
  double dnsSeconds = 0;
  std::string resolvedAddress;
  // Every address the hostname resolved to, sorted, comma-joined ("" for a pinned backend):
  // a change-tracking fact that round-robin DNS does not flap.
  std::string resolvedAddresses;
  std::string serverHeader;
};

}  // namespace envprobe
