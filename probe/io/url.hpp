#pragma once
// URL parts through curl's own parser (curl_url), so the prober reads a Location exactly as curl
// would build the request from it.
#include <optional>
#include <string>

namespace envprobe {

struct UrlParts {
  std::string scheme;  // lower case
  std::string host;    // without IPv6 brackets
  int port = 0;        // explicit or the scheme's default
};

// nullopt when curl cannot parse it or it has no host.
std::optional<UrlParts> parseUrl(const std::string& url);
// Same scheme, host (case-insensitive) and port.
bool sameOrigin(const UrlParts& a, const UrlParts& b);

}  // namespace envprobe
