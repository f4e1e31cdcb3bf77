// The history store: transitions survive a reopen, the retention deletes old rows (each series
// keeps its latest), a file that is not SQLite is moved aside, an unusable directory means no
// history (never a failure), and rows are written on the store's own thread.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "probe/history/history_sink.hpp"
#include "probe/history/history_store.hpp"
#include "tests/unit/engine/fakes.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;
using namespace envprobe::testing;

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::int64_t kNow = 1000 * kDayMs;

HistoryOptions optionsFor(const TempDir& dir) {
  HistoryOptions options;
  options.path = (dir.path() / "data").string();
  options.nowMs = [] { return kNow; };
  return options;
}

HistoryTransition transition(std::string series, std::int64_t ms, bool up,
                             std::string reason = "", std::string detail = "") {
  return {std::move(series), ms, up, std::move(reason), std::move(detail)};
}

std::int64_t rowCount(const std::string& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM transitions", -1, &stmt, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const auto n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

}  // namespace

TEST_CASE("history store: transitions survive a reopen; down-since is the latest down",
          "[history]") {
  TempDir dir;
  {
    HistoryStore store(optionsFor(dir));
    REQUIRE(store.enabled());
    CHECK(store.loadLastStates().empty());
    store.record(transition("a\n", kNow - 5000, false, "connect", "refused"));
    store.record(transition("b\n10.0.0.1", kNow - 4000, false, "http_status", "500"));
    store.record(transition("b\n10.0.0.1", kNow - 3000, true));
    store.record(transition("c\n", kNow - 2000, true));
    store.record(transition("c\n", kNow - 1000, false, "timeout", std::string(5000, 'x')));
    store.flush();
  }
  HistoryStore reopened(optionsFor(dir));
  REQUIRE(reopened.enabled());
  const auto last = reopened.loadLastStates();
  REQUIRE(last.size() == 3);
  CHECK(last.at("b\n10.0.0.1").up);
  const auto down = reopened.loadDownSince();
  REQUIRE(down.size() == 2);
  CHECK(down.at("a\n").sinceUnixMs == kNow - 5000);
  CHECK(down.at("a\n").reason == "connect");
  CHECK(down.at("a\n").detail == "refused");
  CHECK(down.at("c\n").sinceUnixMs == kNow - 1000);
  CHECK(down.at("c\n").detail.size() == HistoryStore::kMaxDetailBytes);
}

TEST_CASE("history store: rows are written on the writer thread, not the caller's",
          "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  REQUIRE(store.enabled());
  store.record(transition("a\n", kNow, false, "connect"));
  store.flush();
  CHECK(store.lastCommitThreadId() == store.writerThreadId());
  CHECK(store.lastCommitThreadId() != std::this_thread::get_id());
  CHECK(rowCount(store.file()) == 1);
}

TEST_CASE("history store: the retention deletes old rows but keeps each series' latest",
          "[history]") {
  TempDir dir;
  auto options = optionsFor(dir);
  HistoryStore store(options);
  store.record(transition("old\n", kNow - 30 * kDayMs, false, "connect"));
  store.record(transition("old\n", kNow - 20 * kDayMs, true));
  store.record(transition("mixed\n", kNow - 15 * kDayMs, true));
  store.record(transition("mixed\n", kNow - 1 * kDayMs, false, "timeout"));
  store.record(transition("new\n", kNow - 1000, true));
  store.flush();
  CHECK(rowCount(store.file()) == 5);
  store.pruneNow();
  // old: its latest (up, 20 days ago) stays; mixed: the 15-day-old row goes.
  CHECK(rowCount(store.file()) == 3);
  const auto last = store.loadLastStates();
  CHECK(last.at("old\n").up);
  CHECK(last.at("mixed\n").sinceUnixMs == kNow - kDayMs);
}

TEST_CASE("history store: a file that is not SQLite is moved aside and a fresh store works",
          "[history]") {
  TempDir dir;
  const auto options = optionsFor(dir);
  std::string garbage(8192, 'G');
  garbage += "garbage, not a database";
  dir.write("data/history.sqlite", garbage);
  HistoryStore store(options);
  REQUIRE(store.enabled());
  const auto aside = store.file() + ".corrupt-" + std::to_string(kNow / 1000);
  CHECK(std::filesystem::exists(aside));
  store.record(transition("a\n", kNow, false, "connect"));
  store.flush();
  CHECK(store.loadDownSince().size() == 1);
}

TEST_CASE("history store: a truncated database is moved aside", "[history]") {
  TempDir dir;
  auto options = optionsFor(dir);
  std::string file;
  {
    HistoryStore store(options);
    for (int i = 0; i < 2000; ++i)
      store.record(transition("s" + std::to_string(i) + "\n", kNow, false, "connect",
                              std::string(200, 'd')));
    file = store.file();
  }
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 2);
  HistoryStore reopened(options);
  CHECK(reopened.enabled());
  CHECK(reopened.loadLastStates().empty());
  CHECK(std::filesystem::exists(file + ".corrupt-" + std::to_string(kNow / 1000)));
}

TEST_CASE("history store: a directory that cannot be created means no history, not a failure",
          "[history]") {
  TempDir dir;
  auto options = optionsFor(dir);
  options.path = dir.write("a-file", "x") + "/data";
  HistoryStore store(options);
  CHECK_FALSE(store.enabled());
  store.record(transition("a\n", kNow, false, "connect"));
  store.flush();
  CHECK(store.loadDownSince().empty());
}

TEST_CASE("history sink: records flips, and a first result only when it differs from the store",
          "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  const auto stillDown = makeTarget("down.at.local");
  const auto recovered = makeTarget("up.at.local");
  const auto fresh = makeTarget("new.at.local");
  store.record(transition(seriesKey(stillDown->target.id, ""), kNow - 60000, false, "connect"));
  store.record(transition(seriesKey(recovered->target.id, ""), kNow - 60000, false, "connect"));
  store.flush();
  HistorySink sink(store, store.loadLastStates());
  auto result = [](const std::shared_ptr<const ProbeTarget>& target, bool ok, std::int64_t ms) {
    ProbeResult r;
    r.target = target;
    r.verdict.ok = ok;
    r.verdict.reason = ok ? Reason::None : Reason::HttpStatus;
    r.finishedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
    return r;
  };
  sink.onResult(result(stillDown, false, kNow));      // nothing: still down
  sink.onResult(result(recovered, true, kNow));       // up
  sink.onResult(result(fresh, true, kNow));           // first result: up
  sink.onResult(result(fresh, true, kNow + 1000));    // nothing
  sink.onResult(result(fresh, false, kNow + 2000));   // down
  store.flush();
  CHECK(rowCount(store.file()) == 5);
  const auto down = store.loadDownSince();
  REQUIRE(down.size() == 2);
  CHECK(down.at(seriesKey(stillDown->target.id, "")).sinceUnixMs == kNow - 60000);
  CHECK(down.at(seriesKey(fresh->target.id, "")).sinceUnixMs == kNow + 2000);
  CHECK(down.at(seriesKey(fresh->target.id, "")).reason == "http_status");
}
