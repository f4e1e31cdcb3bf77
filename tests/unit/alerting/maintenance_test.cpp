#include "probe/alerting/maintenance.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using envprobe::MaintenanceWindow;
using envprobe::parseTimestamp;
using envprobe::SystemTime;
using envprobe::validateWindow;
using envprobe::windowActive;
using namespace std::chrono_literals;

namespace {

SystemTime at(const std::string& text) {
  const auto parsed = parseTimestamp(text);
  REQUIRE(parsed);
  return *parsed;
}

MaintenanceWindow window(const std::string& start, const std::string& end) {
  MaintenanceWindow w;
  w.name = "patching";
  w.service = "shop";
  w.start = at(start);
  w.end = at(end);
  return w;
}

bool hasError(const std::vector<std::string>& errors, const std::string& part) {
  for (const auto& e : errors)
    if (e.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("maintenance: parses RFC 3339 timestamps in UTC and with offsets") {
  const SystemTime utc = SystemTime(std::chrono::seconds(1795309200));  // 2026-11-22T01:00:00Z
  CHECK(parseTimestamp("2026-11-22T01:00:00Z") == utc);
  CHECK(parseTimestamp("2026-11-22t01:00:00z") == utc);
  CHECK(parseTimestamp("2026-11-22T03:00:00+02:00") == utc);
  CHECK(parseTimestamp("2026-11-21T19:30:00-05:30") == utc);
  CHECK(parseTimestamp("2026-11-22T01:00:00+00:00") == utc);
  CHECK(parseTimestamp("2026-11-22T01:00:00.250Z") == utc + 250ms);
  CHECK(parseTimestamp("2026-11-22T01:00:00.1234567891Z") ==
        utc + std::chrono::duration_cast<SystemTime::duration>(123456789ns));
  CHECK(parseTimestamp("1970-01-01T00:00:00Z") == SystemTime{});
  CHECK(parseTimestamp("2024-02-29T00:00:00Z"));  // leap year
}

TEST_CASE("maintenance: rejects what is not an RFC 3339 timestamp") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "2026-11-22", "2026-11-22T01:00:00", "2026-11-22 01:00:00Z",
               "2026-11-22T01:00Z", "2026-11-22T01:00:00+0200", "2026-11-22T01:00:00+2:00",
               "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
               "2026-11-22T24:00:00Z", "2026-11-22T01:60:00Z", "2026-11-22T01:00:00.Z",
               "2026-11-22T01:00:00Zjunk", "2026-11-22T01:00:00+24:00", "26-11-22T01:00:00Z",
               "2026/11/22T01:00:00Z");
  INFO("text: \"" << text << "\"");
  CHECK(parseTimestamp(text) == std::nullopt);
}

TEST_CASE("maintenance: formats timestamps the way Alertmanager expects") {
  CHECK(envprobe::formatTimestamp(at("2026-11-22T03:04:05.678+02:00")) ==
        "2026-11-22T01:04:05.678Z");
  CHECK(envprobe::formatTimestamp(SystemTime{}) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("maintenance: a valid window has no errors") {
  CHECK(validateWindow(window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z")).empty());
  auto w = window("2026-11-22T01:00:00Z", "2026-11-23T01:00:00Z");  // exactly the maximum
  CHECK(validateWindow(w).empty());
  w.end = {};
  w.duration = 2h;
  w.weekdays = {0, 6};
  CHECK(validateWindow(w).empty());
}

TEST_CASE("maintenance: validation names each problem") {
  SECTION("end before start") {
    const auto errors = validateWindow(window("2026-11-22T03:00:00Z", "2026-11-22T01:00:00Z"));
    CHECK(hasError(errors, "end is not after start"));
  }
  SECTION("no end") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.end = {};
    CHECK(hasError(validateWindow(w), "has no end"));
  }
  SECTION("end and duration") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.duration = 2h;
    CHECK(hasError(validateWindow(w), "not both"));
  }
  SECTION("non-positive duration") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.end = {};
    w.duration = 0ms;
    CHECK(hasError(validateWindow(w), "duration must be positive"));
  }
  SECTION("no start") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.start = {};
    CHECK(hasError(validateWindow(w), "has no start"));
  }
  SECTION("longer than the maximum") {
    const auto w = window("2026-11-22T01:00:00Z", "2026-11-23T02:30:00Z");
    const auto errors = validateWindow(w);
    CHECK(hasError(errors, "lasts 25h30m, longer than the maximum of 24h"));
    CHECK(validateWindow(w, 48h).empty());
    CHECK(hasError(validateWindow(window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z"), 1h),
                   "longer than the maximum of 1h"));
  }
  SECTION("no matcher") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.service.reset();
    CHECK(hasError(validateWindow(w), "at least one matcher"));
    w.hostname = "";
    CHECK(hasError(validateWindow(w), "matcher hostname is empty"));
  }
  SECTION("bad weekday") {
    auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
    w.weekdays = {0, 7, -1};
    const auto errors = validateWindow(w);
    CHECK(errors.size() == 2);
    CHECK(hasError(errors, "bad weekday 7"));
    CHECK(hasError(errors, "bad weekday -1"));
  }
}

TEST_CASE("maintenance: a one-off window is active from start until end") {
  const auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
  CHECK_FALSE(windowActive(w, at("2026-11-22T00:59:59Z")));
  CHECK(windowActive(w, at("2026-11-22T01:00:00Z")));
  CHECK(windowActive(w, at("2026-11-22T02:59:59Z")));
  CHECK_FALSE(windowActive(w, at("2026-11-22T03:00:00Z")));
  CHECK_FALSE(windowActive(w, at("2026-11-29T01:30:00Z")));  // no recurrence

  auto byDuration = w;
  byDuration.end = {};
  byDuration.duration = 90min;
  CHECK(envprobe::windowEnd(byDuration) == at("2026-11-22T02:30:00Z"));
  CHECK(windowActive(byDuration, at("2026-11-22T02:29:00Z")));
  CHECK_FALSE(windowActive(byDuration, at("2026-11-22T02:30:00Z")));
}

TEST_CASE("maintenance: a weekly window repeats on its weekdays from the start date") {
  // 2026-11-22 is a Sunday; the window is Sundays and Wednesdays 01:00-03:00 UTC.
  auto w = window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z");
  w.weekdays = {0, 3};
  CHECK_FALSE(windowActive(w, at("2026-11-15T01:30:00Z")));  // a Sunday before the start
  CHECK(windowActive(w, at("2026-11-22T01:30:00Z")));
  CHECK_FALSE(windowActive(w, at("2026-11-23T01:30:00Z")));  // Monday
  CHECK(windowActive(w, at("2026-11-25T01:00:00Z")));        // Wednesday
  CHECK_FALSE(windowActive(w, at("2026-11-25T03:00:00Z")));
  CHECK(windowActive(w, at("2026-11-29T02:59:00Z")));  // next Sunday
  CHECK(windowActive(w, at("2027-06-06T02:00:00Z")));  // a Sunday months later
  CHECK_FALSE(windowActive(w, at("2027-06-06T00:59:00Z")));
}

TEST_CASE("maintenance: a weekly window can cross midnight") {
  // Saturdays 23:00 for 2h: covers Sunday 00:30, not Sunday 01:00.
  auto w = window("2026-11-21T23:00:00Z", "2026-11-22T01:00:00Z");
  w.weekdays = {6};
  CHECK(windowActive(w, at("2026-11-28T23:30:00Z")));
  CHECK(windowActive(w, at("2026-11-29T00:30:00Z")));
  CHECK_FALSE(windowActive(w, at("2026-11-29T01:00:00Z")));
  CHECK_FALSE(windowActive(w, at("2026-11-27T23:30:00Z")));  // Friday
}

TEST_CASE("maintenance: matchers compare exact strings and absent means any") {
  MaintenanceWindow w;
  w.service = "shop";
  CHECK(envprobe::windowMatches(w, "shop", "shop-at.example.com", "home"));
  CHECK_FALSE(envprobe::windowMatches(w, "shop-admin", "shop-at.example.com", "home"));
  w.hostname = "shop-at.example.com";
  CHECK(envprobe::windowMatches(w, "shop", "shop-at.example.com", "api"));
  CHECK_FALSE(envprobe::windowMatches(w, "shop", "SHOP-AT.example.com", "home"));
  w.service.reset();
  w.check = "home";
  CHECK(envprobe::windowMatches(w, "cart", "shop-at.example.com", "home"));
  CHECK_FALSE(envprobe::windowMatches(w, "cart", "shop-at.example.com", "api"));
}

TEST_CASE("maintenance: inMaintenance needs a matching window that is active") {
  std::vector<MaintenanceWindow> windows{window("2026-11-22T01:00:00Z", "2026-11-22T03:00:00Z")};
  windows.push_back(window("2026-11-22T05:00:00Z", "2026-11-22T06:00:00Z"));
  windows.back().service = "cart";
  const auto now = at("2026-11-22T02:00:00Z");
  CHECK(envprobe::inMaintenance(windows, "shop", "shop-at.example.com", "home", now));
  CHECK_FALSE(envprobe::inMaintenance(windows, "cart", "cart.example.com", "home", now));
  CHECK(envprobe::inMaintenance(windows, "cart", "cart.example.com", "home",
                                at("2026-11-22T05:30:00Z")));
  CHECK_FALSE(envprobe::inMaintenance({}, "shop", "shop-at.example.com", "home", now));
}
