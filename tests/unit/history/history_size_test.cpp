// Not run by default (hidden tag): the store's size on disk for a day of transitions, the
// figure the README quotes. ./build/tests/envprobe_tests "[.history_size]"
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>

#include "probe/history/history_store.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;

TEST_CASE("history store: bytes per target per day", "[.history_size]") {
  testing::TempDir dir;
  constexpr int kSeries = 1000;
  constexpr int kPerDay = 288;  // a target that flaps every 5 minutes, all day
  constexpr std::int64_t kStart = 1'700'000'000'000;
  std::string file;
  {
    HistoryOptions options;
    options.path = dir.path().string();
    options.nowMs = [] { return kStart; };
    HistoryStore store(options);
    REQUIRE(store.enabled());
    for (int i = 0; i < kPerDay; ++i) {
      for (int s = 0; s < kSeries; ++s) {
        const bool up = i % 2 == 1;
        store.record({"at/shop" + std::to_string(s) + "/home/internal/shop" + std::to_string(s) +
                          ".at.example.com\n10.1.2." + std::to_string(s % 250),
                      kStart + i * 300'000LL + s, up, up ? "" : "http_status",
                      up ? "" : "status 503 not in [200-299] (GET http://shop.at.example.com/)"});
      }
      store.flush();
    }
    file = store.file();
  }
  const auto bytes = std::filesystem::file_size(file);
  std::cout << "history.sqlite: " << kSeries << " series x " << kPerDay << " transitions: "
            << bytes << " bytes, " << bytes / kSeries << " bytes per series per day, "
            << bytes / (kSeries * kPerDay) << " bytes per transition\n";
  CHECK(bytes > 0);
}
