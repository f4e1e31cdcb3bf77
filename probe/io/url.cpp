#include "probe/io/url.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <memory>

namespace envprobe {

namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::optional<std::string> part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, which, &text, flags) != CURLUE_OK || !text) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
}

}  // namespace

std::optional<UrlParts> parseUrl(const std::string& text) {
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
                  CURLUE_OK)
    return std::nullopt;
  auto scheme = part(url.get(), CURLUPART_SCHEME);
  auto host = part(url.get(), CURLUPART_HOST);
  auto port = part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || host->empty()) return std::nullopt;
  UrlParts parts;
  parts.scheme = *scheme;
  for (auto& c : parts.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  parts.host = *host;
  if (parts.host.size() > 2 && parts.host.front() == '[' && parts.host.back() == ']')
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  parts.port = port ? std::atoi(port->c_str()) : 0;
  return parts;
}

bool sameOrigin(const UrlParts& a, const UrlParts& b) {
  return a.scheme == b.scheme && a.port == b.port &&
         strcasecmp(a.host.c_str(), b.host.c_str()) == 0;
}

}  // namespace envprobe
