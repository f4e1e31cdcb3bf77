#pragma once
// What one probe saw, as plain values. Filled by the HTTP adapter, judged by assertions.
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

struct Observation {
  TransportError transportError = TransportError::None;
  std::string transportDetail;  // curl / c-ares message
  int statusCode = 0;
  double httpVersion = 0;  // 1.0, 1.1, 2
  std::vector<std::pair<std::string, std::string>> headers;  // last response only
  std::string body;  // truncated at the body limit
  std::int64_t contentLength = -1;
  int redirects = 0;
  std::string redirectUrl;  // a 3xx hop's Location made absolute; followed by the prober
  bool ssl = false;
  CertificateFacts cert;
  PhaseTimes phases;
  double durationSeconds = 0;  // whole probe, including DNS
  double dnsSeconds = 0;
  std::string resolvedAddress;
  std::string serverHeader;
};

}  // namespace envprobe
