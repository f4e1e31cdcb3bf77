#pragma once
// The facts blackbox_exporter reports about a probe's TLS connection (probe_tls_version_info,
// probe_ssl_last_chain_info, probe_ssl_last_chain_expiry_timestamp_seconds), read from OpenSSL
// through curl while the connection is open, in blackbox_exporter's formats: Go's names for
// TLS versions and Go's string form of a distinguished name. Every text that comes from the
// certificate is made valid UTF-8 and bounded (TlsFacts::kMaxTlsLabelBytes) here, at the
// boundary, since it becomes a label value.
#include <curl/curl.h>
#include <openssl/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "checks/observation.hpp"

namespace envprobe {

// Go's name for a TLS protocol version (0x0304 -> "TLS 1.3"); "unknown" for anything else.
std::string tlsVersionName(int protocolVersion);

// A certificate's NotAfter as unix seconds; 0 when it cannot be read.
std::int64_t notAfterUnix(X509* cert);

// One attribute of a distinguished name, in the certificate's order: the dotted OID and the
// value as valid UTF-8.
struct DnAttribute {
  std::string oid;
  std::string value;
};

// The name as Go's pkix.Name.String() prints a parsed certificate's name: attributes outside
// Go's nine named ones first (as "<oid>=#<hex of the value's DER>"), then C, ST, L, STREET,
// POSTALCODE, O, OU (each type's values joined by "+"), the last CN, the last SERIALNUMBER; the
// whole sequence reversed and joined by ","; in values `,+"\<>;` escaped with a backslash, and
// so are a leading or trailing space and a leading '#'.
std::string formatDistinguishedName(const std::vector<DnAttribute>& attributes);

// The bytes as a label value: ill-formed UTF-8 replaced by U+FFFD, and at most `maxBytes`
// bytes, cut at a character boundary and ending in "…" when cut.
std::string boundedLabelValue(std::string_view bytes,
                              std::size_t maxBytes = TlsFacts::kMaxTlsLabelBytes);

std::string lowerHex(std::string_view bytes);

// The leaf certificate's facts: fingerprint, subject, issuer, DNS SANs, serial number.
void readLeafCertificate(X509* leaf, TlsFacts& facts);

// The facts of the transfer's TLS connection, read while it is open (e.g. when the response's
// status line arrives). Leaves `facts` untouched when the transfer has no OpenSSL connection.
void readTlsFacts(CURL* easy, TlsFacts& facts);

}  // namespace envprobe
