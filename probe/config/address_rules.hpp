#pragma once
// What an address, a hostname or an HTTP header in the config may look like. Pure: IP literals
// are checked with inet_pton, nothing is resolved. Each check returns nullopt when the text is
// fine, else what is expected, in words for an operator (the loader adds file:line and key).
#include <optional>
#include <string>

namespace envprobe {

bool isIpv4Literal(const std::string& text);
bool isIpv6Literal(const std::string& text);
bool isIpLiteral(const std::string& text);  // either

// RFC 1123 names: dot-separated labels of 1..63 letters, digits, '-' and '_' that neither start
// nor end with '-', 253 characters at most, one trailing dot allowed. Not an all-numeric name
// (that is an IPv4 address, valid or not).
bool isHostname(const std::string& text);

// The form under which two spellings of one hostname compare equal: lower case, without the
// trailing dot ("Shop.Example.COM." and "shop.example.com" are one name).
std::string canonicalHostname(const std::string& name);

// dns.servers: an IPv4 or IPv6 literal with an optional port 1..65535: 10.0.0.2, 10.0.0.2:53,
// ::1, [fd00::2]:53 (brackets only with a port). No hostnames: c-ares takes addresses only.
std::optional<std::string> dnsServerError(const std::string& text);

// listen: [host]:port, host:port or :port, port 0..65535 (0: any free port), host an IP literal
// (IPv6 in brackets) or a hostname.
std::optional<std::string> listenAddressError(const std::string& text);

// backends: host or host:port, port 1..65535, host an IP literal (IPv6 in brackets) or a hostname.
std::optional<std::string> backendAddressError(const std::string& text);
// The form under which two spellings of one backend compare equal (10.0.1.5:443 and
// 10.0.1.5:0443, [FD00::5]:443 and [fd00::5]:443, Blue.internal:443 and blue.internal.:443).
// Only meaningful for a text backendAddressError accepts.
std::string canonicalBackend(const std::string& text);
// A backend backendAddressError accepts, split: the host without brackets, the port (0: none,
// the URL's port applies).
struct BackendAddress {
  std::string host;
  int port = 0;
};
BackendAddress splitBackend(const std::string& text);

// Request and expected header names are RFC 7230 tokens; values may hold no control character
// but horizontal tab (a CR or LF would end the header and let the rest through as a new one).
std::optional<std::string> headerNameError(const std::string& name);
std::optional<std::string> headerValueError(const std::string& value);

}  // namespace envprobe
