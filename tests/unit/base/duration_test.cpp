#include "probe/base/duration.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using envprobe::Duration;
using envprobe::formatDuration;
using envprobe::parseByteSize;
using envprobe::parseDuration;
using namespace std::chrono_literals;

TEST_CASE("duration: parses the units operators write", "[duration]") {
  CHECK(parseDuration("500ms") == Duration(500ms));
  CHECK(parseDuration("30s") == Duration(30s));
  CHECK(parseDuration("2m") == Duration(2min));
  CHECK(parseDuration("1h") == Duration(1h));
  CHECK(parseDuration("1d") == Duration(24h));
  CHECK(parseDuration("1h30m") == Duration(90min));
  CHECK(parseDuration("1m30s") == Duration(90s));
  CHECK(parseDuration("2s500ms") == Duration(2500ms));
  CHECK(parseDuration("0s") == Duration(0ms));  // callers reject zero, the parser does not
  CHECK(parseDuration("007s") == Duration(7s));
}

TEST_CASE("duration: rejects what is not a duration", "[duration]") {
  const std::string text = GENERATE(as<std::string>{}, "", "5x", "-1s", "30", "1.5s", "s", "ms",
                                     " 5s", "5s ", "5 s", "5S", "1h30", "+5s", "5sec",
                                     "99999999999s");
  INFO("text: \"" << text << "\"");
  CHECK(parseDuration(text) == std::nullopt);
}

TEST_CASE("duration: formats as the largest units without zero parts", "[duration]") {
  CHECK(formatDuration(0ms) == "0s");
  CHECK(formatDuration(500ms) == "500ms");
  CHECK(formatDuration(30s) == "30s");
  CHECK(formatDuration(90s) == "1m30s");
  CHECK(formatDuration(2min) == "2m");
  CHECK(formatDuration(1h) == "1h");
  CHECK(formatDuration(90min) == "1h30m");
  CHECK(formatDuration(24h) == "24h");
  CHECK(formatDuration(Duration(3'723'004)) == "1h2m3s4ms");
  CHECK(formatDuration(-1500ms) == "-1s500ms");
}

TEST_CASE("duration: format and parse round-trip", "[duration]") {
  const long long ms = GENERATE(1LL, 999LL, 1000LL, 61'001LL, 3'600'000LL, 86'399'999LL);
  const Duration d(ms);
  CHECK(parseDuration(formatDuration(d)) == d);
}

TEST_CASE("duration: byte sizes", "[duration]") {
  CHECK(parseByteSize("1000") == 1000);
  CHECK(parseByteSize("0") == 0);
  CHECK(parseByteSize("64B") == 64);
  CHECK(parseByteSize("512KiB") == 512 * 1024);
  CHECK(parseByteSize("1MiB") == 1024 * 1024);
  CHECK(parseByteSize("2GiB") == 2LL * 1024 * 1024 * 1024);
  CHECK(parseByteSize("3KB") == 3000);
  CHECK(parseByteSize("3kB") == 3000);
  CHECK(parseByteSize("5MB") == 5'000'000);
}

TEST_CASE("duration: malformed byte sizes are rejected", "[duration]") {
  const std::string text = GENERATE(as<std::string>{}, "", "MiB", "-1", "1.5MiB", "1 MiB", "1mib",
                                    "1TiB", "10X", "2199023255553");
  INFO("text: \"" << text << "\"");
  CHECK(parseByteSize(text) == std::nullopt);
}
