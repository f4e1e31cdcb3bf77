// parseDuration and parseByteSize on arbitrary text: never crash, never overflow (UBSan), and
// what they accept survives a round trip through its canonical text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "probe/base/duration.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using envprobe::Duration;
using envprobe::formatDuration;
using envprobe::parseByteSize;
using envprobe::parseDuration;

constexpr long long kMaxDurationMs = 366LL * 86'400'000;  // the parser's own upper bound
constexpr long long kMaxBytes = 1LL << 40;

void checkDuration(const std::string& text) {
  const auto parsed = parseDuration(text);
  if (!parsed) return;
  const long long ms = parsed->count();
  FUZZ_CHECK(ms >= 0 && ms <= kMaxDurationMs, "parseDuration(\"%s\") = %lld ms", text.c_str(), ms);
  const std::string canonical = formatDuration(*parsed);
  const auto again = parseDuration(canonical);
  FUZZ_CHECK(again && *again == *parsed, "parseDuration(\"%s\") = %lld ms, formatted \"%s\"",
             text.c_str(), ms, canonical.c_str());
  FUZZ_CHECK(formatDuration(*again) == canonical, "formatDuration is not stable for \"%s\"",
             canonical.c_str());
}

void checkByteSize(const std::string& text) {
  const auto parsed = parseByteSize(text);
  if (!parsed) return;
  const long long bytes = *parsed;
  FUZZ_CHECK(bytes >= 0 && bytes <= kMaxBytes, "parseByteSize(\"%s\") = %lld", text.c_str(), bytes);
  const auto plain = parseByteSize(std::to_string(bytes));
  FUZZ_CHECK(plain && *plain == bytes, "parseByteSize(\"%s\") = %lld does not read back",
             text.c_str(), bytes);
  for (const auto& [unit, factor] : {std::pair{"KiB", 1LL << 10},
                                     {"MiB", 1LL << 20},
                                     {"GiB", 1LL << 30},
                                     {"kB", 1000LL},
                                     {"MB", 1000'000LL}}) {
    if (bytes % factor != 0) continue;
    const std::string scaled = std::to_string(bytes / factor) + unit;
    const auto back = parseByteSize(scaled);
    FUZZ_CHECK(back && *back == bytes, "%lld bytes written as \"%s\" reads back as %lld", bytes,
               scaled.c_str(), back ? *back : -1LL);
  }
}

// Any duration in range, given as a number of milliseconds, formats to text that parses back.
void checkFormat(const std::uint8_t* data, std::size_t size) {
  if (size < sizeof(std::uint64_t)) return;
  std::uint64_t raw = 0;
  std::memcpy(&raw, data, sizeof raw);
  const Duration d(static_cast<long long>(raw % static_cast<std::uint64_t>(kMaxDurationMs + 1)));
  const std::string text = formatDuration(d);
  const auto back = parseDuration(text);
  FUZZ_CHECK(back && *back == d, "%lld ms formats as \"%s\", which does not parse back",
             static_cast<long long>(d.count()), text.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  checkDuration(text);
  checkByteSize(text);
  checkFormat(data, size);
  return 0;
}
