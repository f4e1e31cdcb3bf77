#include "probe/config/address_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace envprobe {

namespace {

// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 literal (two colons or more).
struct HostPort {
  std::string host;
  std::optional<std::string> port;  // the text after the port's colon, maybe empty
  bool bracketed = false;
  bool bare = false;  // more than one colon and no brackets: only an IPv6 literal can be that
};

std::optional<HostPort> splitHostPort(const std::string& text) {
  HostPort out;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    out.host = text.substr(1, close - 1);
    out.bracketed = true;
    const std::string rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return std::nullopt;
    out.port = rest.substr(1);
    return out;
  }
  const auto colons = std::count(text.begin(), text.end(), ':');
  if (colons == 0) {
    out.host = text;
  } else if (colons == 1) {
    const auto colon = text.find(':');
    out.host = text.substr(0, colon);
    out.port = text.substr(colon + 1);
  } else {
    out.host = text;
    out.bare = true;
  }
  return out;
}

// Decimal digits only (no sign, no spaces), at most five of them; nullopt otherwise.
std::optional<int> portNumber(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<std::string> portError(const std::string& text, int min) {
  const auto port = portNumber(text);
  if (port && *port >= min && *port <= 65535) return std::nullopt;
  return "port \"" + text + "\" is not a number from " + std::to_string(min) + " to 65535";
}

std::string controlName(unsigned char c) {
  switch (c) {
    case '\r': return "CR";
    case '\n': return "LF";
    case '\0': return "NUL";
    case 0x7f: return "DEL";
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      return hex;
    }
  }
}

}  // namespace

bool isIpv4Literal(const std::string& text) {
  in_addr address{};
  return inet_pton(AF_INET, text.c_str(), &address) == 1;
}

bool isIpv6Literal(const std::string& text) {
  in6_addr address{};
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool isHostname(const std::string& text) {
  std::string name = text;
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  bool lastLabelNumeric = false;
  while (start <= name.size()) {
    auto end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    const std::string label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    bool numeric = true;
    for (char c : label) {
      const bool digit = c >= '0' && c <= '9';
      if (!digit && !std::isalpha(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return false;
      numeric = numeric && digit;
    }
    lastLabelNumeric = numeric;
    start = end + 1;
  }
  return !lastLabelNumeric;
}

std::string canonicalHostname(const std::string& name) {
  std::string out = name;
  if (!out.empty() && out.back() == '.') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::string> dnsServerError(const std::string& text) {
  const std::string expected = "; expected an IP address with an optional port, like 10.0.0.2, "
                               "10.0.0.2:53, ::1 or [fd00::2]:53";
  const auto parts = splitHostPort(text);
  if (!parts) return "\"" + text + "\" is not an address" + expected;
  // c-ares reads "[v6]" only with a port after it.
  if (parts->bracketed && !parts->port)
    return "\"" + text + "\": write an IPv6 server without brackets, or with a port" + expected;
  if (parts->port)
    if (auto error = portError(*parts->port, 1)) return *error;
  const bool ok = parts->bracketed || parts->bare ? isIpv6Literal(parts->host)
                                                  : isIpv4Literal(parts->host);
  if (ok) return std::nullopt;
  if (!parts->bracketed && !parts->bare && isHostname(parts->host))
    return "\"" + parts->host + "\" is a hostname, not an IP address: resolvers are given by "
           "address" + expected;
  return "\"" + parts->host + "\" is not an IP address" + expected;
}

std::optional<std::string> listenAddressError(const std::string& text) {
  const std::string expected = "; expected [host]:port, host:port or :port, like :9470, "
                               "127.0.0.1:9470 or [::1]:9470";
  const auto parts = splitHostPort(text);
  if (!parts) return "\"" + text + "\" is not an address" + expected;
  if (parts->bare) return "\"" + text + "\": put an IPv6 address in brackets" + expected;
  if (!parts->port) return "\"" + text + "\" has no port" + expected;
  if (auto error = portError(*parts->port, 0)) return *error;
  if (parts->bracketed) {
    if (isIpv6Literal(parts->host)) return std::nullopt;
    return "\"" + parts->host + "\" in brackets is not an IPv6 address" + expected;
  }
  if (parts->host.empty() || isIpv4Literal(parts->host) || isHostname(parts->host))
    return std::nullopt;
  return "\"" + parts->host + "\" is neither an IP address nor a hostname" + expected;
}

std::optional<std::string> backendAddressError(const std::string& text) {
  const std::string expected = "; expected host or host:port, like 10.0.1.5:443, "
                               "[fd00::5]:443 or blue.internal:8443";
  const auto parts = splitHostPort(text);
  if (text.find("://") != std::string::npos)
    return "\"" + text + "\": write the address without a scheme" + expected;
  if (!parts) return "\"" + text + "\" is not an address" + expected;
  if (parts->bare) {
    if (isIpv6Literal(parts->host)) return "put an IPv6 address in brackets, like [fd00::5]:443";
    return "\"" + text + "\" is not an address" + expected;
  }
  if (parts->port)
    if (auto error = portError(*parts->port, 1)) return *error;
  if (parts->bracketed) {
    if (isIpv6Literal(parts->host)) return std::nullopt;
    return "\"" + parts->host + "\" in brackets is not an IPv6 address" + expected;
  }
  if (isIpv4Literal(parts->host) || isHostname(parts->host)) return std::nullopt;
  return "\"" + parts->host + "\" is neither an IP address nor a hostname" + expected;
}

bool isIpLiteral(const std::string& text) { return isIpv4Literal(text) || isIpv6Literal(text); }

BackendAddress splitBackend(const std::string& text) {
  const auto parts = splitHostPort(text);
  if (!parts) return {text, 0};
  const auto port = parts->port ? portNumber(*parts->port) : std::nullopt;
  return {parts->host, port.value_or(0)};
}

std::string canonicalBackend(const std::string& text) {
  const auto parts = splitHostPort(text);
  if (!parts) return text;
  std::string host = canonicalHostname(parts->host);
  if (parts->bracketed) {
    in6_addr address{};
    char buffer[INET6_ADDRSTRLEN] = {0};
    if (inet_pton(AF_INET6, parts->host.c_str(), &address) == 1 &&
        inet_ntop(AF_INET6, &address, buffer, sizeof buffer))
      host = buffer;
    host = "[" + host + "]";
  }
  if (!parts->port) return host;
  const auto port = portNumber(*parts->port);
  return host + ":" + (port ? std::to_string(*port) : *parts->port);
}

std::optional<std::string> headerNameError(const std::string& name) {
  static const std::string kTokenPunctuation = "!#$%&'*+-.^_`|~";
  if (name.empty()) return "a header name must not be empty";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) || kTokenPunctuation.find(static_cast<char>(c)) != std::string::npos)
      continue;
    const std::string shown = c < 0x20 || c >= 0x7f ? controlName(c) : std::string(1, c);
    return "invalid header name: " + shown + " at byte " + std::to_string(i + 1) +
           "; a header name uses letters, digits and !#$%&'*+-.^_`|~ only (RFC 7230 token)";
  }
  return std::nullopt;
}

std::optional<std::string> headerValueError(const std::string& value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return "invalid header value: control character " + controlName(c) + " at byte " +
             std::to_string(i + 1) + "; a header value is one line without control characters";
  }
  return std::nullopt;
}

}  // namespace envprobe
