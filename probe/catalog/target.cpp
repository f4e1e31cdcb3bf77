#include "probe/catalog/target.hpp"

namespace envprobe {

std::string redactedUrl(const std::string& url) {
  static const std::string kRedacted = "<redacted>";
  std::string out;
  std::size_t pos = 0;
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    const std::size_t authority = scheme + 3;
    const std::size_t end = url.find_first_of("/?#", authority);
    const std::size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
    out = url.substr(0, authority);
    if (at != std::string::npos && at >= authority) {
      out += kRedacted + "@";
      pos = at + 1;
    } else {
      pos = authority;
    }
  }
  const std::size_t query = url.find('?', pos);
  if (query == std::string::npos) return out + url.substr(pos);
  const std::size_t fragment = url.find('#', query);
  out += url.substr(pos, query + 1 - pos);
  const std::string params =
      url.substr(query + 1, (fragment == std::string::npos ? url.size() : fragment) - query - 1);
  std::size_t start = 0;
  while (start <= params.size()) {
    std::size_t amp = params.find('&', start);
    if (amp == std::string::npos) amp = params.size();
    const std::string param = params.substr(start, amp - start);
    const std::size_t eq = param.find('=');
    if (param.empty() || eq + 1 == param.size()) out += param;
    else if (eq == std::string::npos) out += kRedacted;  // a bare value can be a secret too
    else out += param.substr(0, eq + 1) + kRedacted;
    if (amp < params.size()) out += '&';
    start = amp + 1;
  }
  if (fragment != std::string::npos) out += url.substr(fragment);
  return out;
}

}  // namespace envprobe
