// Not run by default (hidden tag): the store's size on disk for a day of data, the figures the
// README quotes, and how long the queries take over 10,000 series.
// ./build/tests/envprobe_tests "[.history_size]"
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "probe/history/history_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;

namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;
constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

std::string seriesName(int s) {
  return "at/shop" + std::to_string(s) + "/home/internal/shop" + std::to_string(s) +
         ".at.example.com\n10.1.2." + std::to_string(s % 250);
}

HistoryTransition flip(int s, std::int64_t ms, bool up) {
  return {seriesName(s), ms, up, up ? "" : "http_status",
          up ? "" : "status 503 not in [200-299] (GET http://shop.at.example.com/)"};
}

FactChange versionChange(int s, std::int64_t ms, int from) {
  FactChange c;
  c.series = seriesName(s);
  c.targetId = "at/shop" + std::to_string(s) + "/home/internal/shop" + std::to_string(s);
  c.env = "at";
  c.service = "shop" + std::to_string(s % 100);
  c.hostname = "shop" + std::to_string(s) + ".at.example.com";
  c.visibility = "internal";
  c.check = "home";
  c.address = "10.1.2." + std::to_string(s % 250);
  c.what = "version";
  c.oldValue = "1." + std::to_string(from) + ".0";
  c.newValue = "1." + std::to_string(from + 1) + ".0";
  c.unixMs = ms;
  return c;
}

// Fills the store with one day of `series` series: each goes down and recovers `cycles` times and
// has its version changed `deploys` times (a fact and a change each); one announcement per
// deploy per 100-series service.
void recordDay(HistoryStore& store, int series, int cycles, int deploys, int day = 0) {
  const std::int64_t dayStart = kStart + day * kDayMs;
  for (int s = 0; s < series; ++s) {
    for (int c = 0; c < cycles; ++c) {
      const std::int64_t at = dayStart + (c * kDayMs) / cycles + s;
      store.record(flip(s, at, false));
      store.record(flip(s, at + 120'000, true));
    }
    for (int d = 0; d < deploys; ++d) {
      const std::int64_t at = dayStart + (d * kDayMs) / deploys + 3'600'000 + s;
      const int version = day * deploys + d;
      store.recordFact(seriesName(s), "version", "1." + std::to_string(version + 1) + ".0", at);
      store.recordChange(versionChange(s, at, version));
      if (s < 100)
        store.recordAnnouncement({"shop" + std::to_string(s),
                                  "1." + std::to_string(version + 1) + ".0", at - 60'000, 600'000});
    }
    if (s % 100 == 99) store.flush();
  }
  store.flush();
}

HistoryOptions optionsAt(const testing::TempDir& dir, std::int64_t nowMs) {
  HistoryOptions options;
  options.path = dir.path().string();
  options.nowMs = [nowMs] { return nowMs; };
  return options;
}

}  // namespace

TEST_CASE("history store: bytes per target per day when flapping all day", "[.history_size]") {
  testing::TempDir dir;
  constexpr int kSeries = 1000;
  constexpr int kPerDay = 288;  // a target that flaps every 5 minutes, all day
  std::string file;
  {
    HistoryStore store(optionsAt(dir, kStart));
    REQUIRE(store.enabled());
    for (int i = 0; i < kPerDay; ++i) {
      for (int s = 0; s < kSeries; ++s) store.record(flip(s, kStart + i * 300'000LL + s, i % 2));
      store.flush();
    }
    file = store.file();
  }
  const auto bytes = std::filesystem::file_size(file);
  std::cout << "history.sqlite: " << kSeries << " series x " << kPerDay << " transitions: " << bytes
            << " bytes, " << bytes / kSeries << " bytes per series per day, "
            << bytes / (kSeries * kPerDay) << " bytes per transition\n";
  CHECK(bytes > 0);
}

TEST_CASE("history store: bytes per target per day with a few flaps and deploys",
          "[.history_size]") {
  testing::TempDir dir;
  constexpr int kSeries = 1000, kCycles = 3, kDeploys = 2;
  const std::string file = (dir.path() / HistoryStore::kFileName).string();
  auto sizeAfterDays = [&](int days) {
    {
      HistoryStore store(optionsAt(dir, kStart + days * kDayMs));
      REQUIRE(store.enabled());
      recordDay(store, kSeries, kCycles, kDeploys, days - 1);
      CHECK(store.dropped() == 0);
    }
    return std::filesystem::file_size(file);  // closed: the WAL is checkpointed into the file
  };
  const auto day1 = sizeAfterDays(1);
  const auto day2 = sizeAfterDays(2);
  std::cout << "history.sqlite: " << kSeries << " series, each day " << 2 * kCycles
            << " transitions and " << kDeploys << " version changes (fact + change) per series, "
            << 100 * kDeploys << " announcements: after one day " << day1 << " bytes ("
            << day1 / kSeries << " per series), after two " << day2 << " bytes (the second day "
            << (day2 - day1) / kSeries << " per series)\n";
  CHECK(day2 > day1);
}

TEST_CASE("history store: query times over 10000 series", "[.history_size]") {
  testing::TempDir dir;
  constexpr int kSeries = 10000;
  HistoryStore store(optionsAt(dir, kStart + kDayMs));
  REQUIRE(store.enabled());
  recordDay(store, kSeries, 3, 2);
  auto timed = [](const char* what, auto&& run) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t n = run();
    const auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << what << ": " << n << " entries in " << ms << " ms\n";
  };
  timed("queryTransitions(last hour)",
        [&] { return store.queryTransitions(kStart + kDayMs - 3'600'000).size(); });
  timed("queryTransitions(whole day)", [&] { return store.queryTransitions(kStart).size(); });
  timed("firstSeen", [&] { return store.firstSeen().size(); });
  timed("queryChanges(limit 1000)", [&] { return store.queryChanges({}).size(); });
  timed("queryChanges(service, limit 1000)", [&] {
    ChangeQuery q;
    q.service = "shop7";
    return store.queryChanges(q).size();
  });
  timed("loadFacts", [&] { return store.loadFacts().size(); });
  timed("loadLastStates", [&] { return store.loadLastStates().size(); });
}
