#pragma once
// Small text helpers shared by the parsers, the checks and the clients.
#include <string>
#include <string_view>

namespace envprobe {

// `text` without leading and trailing ASCII whitespace (space, \t, \r, \n, \v, \f).
inline std::string_view trimSpace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Percent-encodes everything but RFC 3986 unreserved characters (URLs, query values).
std::string urlEncode(std::string_view text);

}  // namespace envprobe
