#include <algorithm>
#include <cctype>

#include "probe/web/status_page.hpp"

#include "probe/base/text.hpp"

namespace envprobe {

namespace {

// Bounds: a query longer than this is read only this far; a value is cut to kMaxValue bytes.
constexpr std::size_t kMaxQuery = 4096;
constexpr std::size_t kMaxValue = 256;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; a '%' not followed by two hex digits stays as it
// is.
std::string decode(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxValue));
  for (std::size_t i = 0; i < text.size() && out.size() < kMaxValue; ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}


std::string lowered(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

StatusFilter parseStatusFilter(const std::string& query) {
  StatusFilter filter;
  std::string_view rest(query);
  if (rest.size() > kMaxQuery) rest = rest.substr(0, kMaxQuery);
  if (!rest.empty() && rest.front() == '?') rest.remove_prefix(1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find_first_of("&;");
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = decode(pair.substr(0, eq));
    const std::string value(trimSpace(decode(pair.substr(eq + 1))));
    if (key == "service") {
      filter.service = value;
    } else if (key == "hostname") {
      filter.hostname = value;
    } else if (key == "state") {
      const std::string state = lowered(value);
      filter.state = state == "up" || state == "down" ? state : "";
    }
  }
  return filter;
}

bool matchesFilter(const StatusFilter& filter, const std::string& service,
                   const std::string& hostname) {
  if (!filter.service.empty() && service != filter.service) return false;
  if (filter.hostname.empty()) return true;
  // Hostnames compare without regard to ASCII case, as DNS does.
  const auto sameLetter = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(hostname.begin(), hostname.end(), filter.hostname.begin(),
                     filter.hostname.end(), sameLetter) != hostname.end();
}

bool matchesFilter(const StatusFilter& filter, const SeriesState& state) {
  if (filter.state == "up" && !state.success) return false;
  if (filter.state == "down" && state.success) return false;
  return matchesFilter(filter, state.service, state.hostname);
}

}  // namespace envprobe
