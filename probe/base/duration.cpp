#include "probe/base/duration.hpp"

#include <cctype>

namespace envprobe {

std::optional<Duration> parseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long long totalMs = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    long long value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + (text[i] - '0');
      if (value > 1'000'000'000LL) return std::nullopt;
      ++i;
    }
    std::string unit;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) unit += text[i++];
    long long factor = 0;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = 1000;
    else if (unit == "m") factor = 60'000;
    else if (unit == "h") factor = 3'600'000;
    else if (unit == "d") factor = 86'400'000;
    else return std::nullopt;
    totalMs += value * factor;
    // Beyond a year a duration is a typo, and far beyond it time arithmetic overflows.
    if (totalMs > 366LL * 86'400'000) return std::nullopt;
  }
  return Duration(totalMs);
}

std::string formatDuration(Duration d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const long long h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (rest) out += std::to_string(rest) + "ms";
  return out;
}

std::optional<long long> parseByteSize(const std::string& text) {
  std::size_t i = 0;
  long long value = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + (text[i++] - '0');
    if (value > (1LL << 40)) return std::nullopt;
  }
  const std::string unit = text.substr(i);
  long long factor = 0;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "KiB") factor = 1LL << 10;
  else if (unit == "MiB") factor = 1LL << 20;
  else if (unit == "GiB") factor = 1LL << 30;
  else if (unit == "KB" || unit == "kB") factor = 1000;
  else if (unit == "MB") factor = 1000 * 1000;
  else return std::nullopt;
  if (value > (1LL << 40) / factor) return std::nullopt;  // over 1 TiB: a typo
  return value * factor;
}

}  // namespace envprobe
