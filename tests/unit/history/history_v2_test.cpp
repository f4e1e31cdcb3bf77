// The history store's version-2 contents: a version-1 file migrated in place, a newer file moved
// aside, first-seen times, facts, fact changes and announcements recorded and read back, the
// queries (filters, limits, the row preceding a window), text bounds, the retention, and reads
// from another thread while the writer writes.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "probe/history/history_store.hpp"
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

HistoryTransition transition(std::string series, std::int64_t ms, bool up, std::string reason = "",
                             std::string detail = "") {
  return {std::move(series), ms, up, std::move(reason), std::move(detail)};
}

FactChange change(std::string series, std::string service, std::string env, std::int64_t ms,
                  std::string oldValue = "1.0", std::string newValue = "1.1") {
  FactChange c;
  c.series = std::move(series);
  c.targetId = "t-" + c.series;
  c.env = std::move(env);
  c.service = std::move(service);
  c.hostname = "host.example";
  c.visibility = "internal";
  c.check = "home";
  c.address = "10.0.0.1";
  c.what = "version";
  c.oldValue = std::move(oldValue);
  c.newValue = std::move(newValue);
  c.unixMs = ms;
  return c;
}

// Runs `sql` on `file` with a connection of the test's own; returns the first column of the
// last row as an integer.
std::int64_t sqlInt(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::int64_t value = -1;
  while (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void sqlRun(const std::string& file, const std::string& script) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, script.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("history store: a version-1 file is migrated in place and its rows kept", "[history]") {
  TempDir dir;
  const auto options = optionsFor(dir);
  std::filesystem::create_directories(options.path);
  const std::string file = options.path + "/history.sqlite";
  sqlRun(file, R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE transitions (id INTEGER PRIMARY KEY, series TEXT NOT NULL,
      time_ms INTEGER NOT NULL, up INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX transitions_by_series ON transitions(series, id);
    CREATE INDEX transitions_by_time ON transitions(time_ms);
    INSERT INTO transitions (series, time_ms, up, reason, detail) VALUES
      ('a', 1000, 0, 'connect', 'refused'), ('a', 2000, 1, '', ''),
      ('b', 1500, 0, 'timeout', 'after 5s');
    PRAGMA user_version = 1;
  )sql");
  {
    HistoryStore store(options);
    REQUIRE(store.enabled());
    CHECK(sqlInt(file, "PRAGMA user_version") == 2);
    const auto last = store.loadLastStates();
    REQUIRE(last.size() == 2);
    CHECK(last.at("a").up);
    CHECK(last.at("a").sinceUnixMs == 2000);
    CHECK(last.at("b").reason == "timeout");
    CHECK(last.at("b").detail == "after 5s");
    // The retention (applied at open) deleted a's first row, older than 14 days; its first-seen
    // time, taken before, stays.
    CHECK(sqlInt(file, "SELECT COUNT(*) FROM transitions") == 2);
    CHECK(store.firstSeen() == std::map<std::string, std::int64_t>{{"a", 1000}, {"b", 1500}});
    // The new tables work.
    store.record(transition("c", 3000, false, "dns"));
    store.recordFact("a", "version", "2.0", 3000);
    store.recordChange(change("a", "shop", "at", 3000));
    store.recordAnnouncement({"shop", "2.0", 3000, 60000});
    store.flush();
    CHECK(store.firstSeen().at("c") == 3000);
    CHECK(store.loadFacts().at("a").at("version") == "2.0");
    CHECK(store.queryChanges({}).size() == 1);
    CHECK(store.loadAnnouncements().size() == 1);
  }
  // Reopening a version-2 file changes nothing.
  HistoryStore reopened(options);
  REQUIRE(reopened.enabled());
  CHECK(reopened.loadLastStates().size() == 3);
  CHECK(reopened.firstSeen().size() == 3);
  CHECK(sqlInt(file, "SELECT COUNT(*) FROM transitions") == 3);
}

TEST_CASE("history store: a file of a newer schema version is moved aside", "[history]") {
  TempDir dir;
  const auto options = optionsFor(dir);
  std::filesystem::create_directories(options.path);
  const std::string file = options.path + "/history.sqlite";
  sqlRun(file, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 7;");
  HistoryStore store(options);
  REQUIRE(store.enabled());
  const auto aside = file + ".newer-" + std::to_string(kNow / 1000);
  CHECK(std::filesystem::exists(aside));
  CHECK(sqlInt(aside, "PRAGMA user_version") == 7);
  CHECK(sqlInt(file, "PRAGMA user_version") == 2);
  store.record(transition("a", kNow, false, "connect"));
  store.flush();
  CHECK(store.loadDownSince().size() == 1);
}

TEST_CASE("history store: facts and announcements keep the latest value and survive a reopen",
          "[history]") {
  TempDir dir;
  {
    HistoryStore store(optionsFor(dir));
    REQUIRE(store.enabled());
    CHECK(store.loadFacts().empty());
    CHECK(store.loadAnnouncements().empty());
    store.recordFact("a", "version", "1.0", kNow - 3000);
    store.recordFact("a", "version", "1.1", kNow - 2000);
    store.recordFact("a", "body_hash", "abc", kNow - 2000);
    store.recordFact("b", "version", "9", kNow - 1000);
    store.recordAnnouncement({"shop", "1.0", kNow - 5000, 60000});
    store.recordAnnouncement({"shop", "1.1", kNow - 2500, 120000});
    store.recordAnnouncement({"cart", "3", kNow - 100, 0});
    store.flush();
  }
  HistoryStore store(optionsFor(dir));
  using Facts = std::map<std::string, std::map<std::string, std::string>>;
  CHECK(store.loadFacts() ==
        Facts{{"a", {{"version", "1.1"}, {"body_hash", "abc"}}}, {"b", {{"version", "9"}}}});
  const auto announcements = store.loadAnnouncements();
  REQUIRE(announcements.size() == 2);
  CHECK(announcements[0].service == "cart");
  CHECK(announcements[1].service == "shop");
  CHECK(announcements[1].version == "1.1");
  CHECK(announcements[1].announcedUnixMs == kNow - 2500);
  CHECK(announcements[1].convergeWithinMs == 120000);
}

TEST_CASE("history store: queryChanges filters and limits and returns the newest first",
          "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  CHECK(store.queryChanges({}).empty());
  for (int i = 0; i < 10; ++i) {
    store.recordChange(change("s" + std::to_string(i % 3), i % 2 ? "shop" : "cart",
                              i < 5 ? "at" : "de", kNow - 10000 + i * 1000, std::to_string(i),
                              std::to_string(i + 1)));
  }
  store.flush();
  const auto all = store.queryChanges({});
  REQUIRE(all.size() == 10);
  CHECK(all.front().unixMs == kNow - 1000);
  CHECK(all.back().unixMs == kNow - 10000);
  CHECK(all.front().newValue == "10");
  CHECK(all.front().targetId == "t-s0");
  CHECK(all.front().hostname == "host.example");
  CHECK(all.front().visibility == "internal");
  CHECK(all.front().check == "home");
  CHECK(all.front().address == "10.0.0.1");
  CHECK(all.front().what == "version");

  ChangeQuery q;
  q.limit = 3;
  auto some = store.queryChanges(q);
  REQUIRE(some.size() == 3);
  CHECK(some[2].unixMs == kNow - 3000);
  q.limit = 0;
  CHECK(store.queryChanges(q).empty());

  q = {};
  q.sinceUnixMs = kNow - 4000;  // i = 6..9
  CHECK(store.queryChanges(q).size() == 4);
  q.service = "shop";  // i = 7, 9
  some = store.queryChanges(q);
  REQUIRE(some.size() == 2);
  CHECK(some[0].unixMs == kNow - 1000);
  q = {};
  q.env = "at";
  q.series = "s1";  // i = 1, 4
  some = store.queryChanges(q);
  REQUIRE(some.size() == 2);
  CHECK(some[0].oldValue == "4");
  CHECK(some[1].oldValue == "1");
  q.service = "nothing";
  CHECK(store.queryChanges(q).empty());
}

TEST_CASE("history store: queryTransitions gives the window's rows after the row preceding it",
          "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  CHECK(store.queryTransitions(0).empty());
  store.record(transition("a", 1000, false, "connect"));
  store.record(transition("a", 2000, true));
  store.record(transition("a", 3000, false, "timeout", "slow"));
  store.record(transition("a", 5000, true));
  store.record(transition("b", 500, false, "dns"));  // before the window only
  store.record(transition("c", 4000, true));         // inside only
  store.record(transition("d", 2500, true));         // exactly at the window's start
  store.record(transition("d", 2600, false, "tls"));
  store.flush();
  const auto rows = store.queryTransitions(2500);
  REQUIRE(rows.size() == 4);
  const auto& a = rows.at("a");
  REQUIRE(a.size() == 3);
  CHECK(a[0].unixMs == 2000);  // the state at 2500: up since 2000
  CHECK(a[1].unixMs == 3000);
  CHECK(a[1].reason == "timeout");
  CHECK(a[1].detail == "slow");
  CHECK(a[2].unixMs == 5000);
  REQUIRE(rows.at("b").size() == 1);
  CHECK(rows.at("b")[0].reason == "dns");
  REQUIRE(rows.at("c").size() == 1);
  const auto& d = rows.at("d");
  REQUIRE(d.size() == 2);
  CHECK(d[0].unixMs == 2500);
  CHECK(d[1].unixMs == 2600);
  // After everything: each series' latest row only.
  const auto late = store.queryTransitions(10000);
  REQUIRE(late.size() == 4);
  CHECK(late.at("a").size() == 1);
  CHECK(late.at("a")[0].unixMs == 5000);
  // From the start: everything.
  CHECK(store.queryTransitions(0).at("a").size() == 4);
}

TEST_CASE("history store: firstSeen keeps a series' first transition", "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  CHECK(store.firstSeen().empty());
  store.record(transition("a", 1000, false, "connect"));
  store.record(transition("a", 2000, true));
  store.recordFact("b", "version", "1", 500);  // a fact alone does not make a series seen
  store.flush();
  CHECK(store.firstSeen() == std::map<std::string, std::int64_t>{{"a", 1000}});
}

TEST_CASE("history store: values are cut to the bound on a character boundary", "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  constexpr auto kMax = HistoryStore::kMaxDetailBytes;
  // "é" is two bytes: an odd bound falls inside one.
  std::string wide = "x";
  while (wide.size() < kMax + 10) wide += "\xC3\xA9";
  store.recordFact("a", "version", wide, kNow);
  store.recordChange(change("a", "shop", "at", kNow, wide, std::string(5000, 'n')));
  store.recordAnnouncement({"shop", wide, kNow, 0});
  store.flush();
  const auto fact = store.loadFacts().at("a").at("version");
  CHECK(fact.size() == kMax - 1);  // "x" + 511 "é" = 1023 bytes; the 512th would pass 1024
  CHECK(fact.back() == '\xA9');
  const auto changes = store.queryChanges({});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].oldValue == fact);
  CHECK(changes[0].newValue.size() == kMax);
  CHECK(store.loadAnnouncements().at(0).version == fact);
}

TEST_CASE(
    "history store: the retention prunes changes but not announcements or facts or first-seen",
    "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  store.record(transition("a", kNow - 30 * kDayMs, false, "connect"));
  store.record(transition("a", kNow - 20 * kDayMs, true));
  store.recordFact("a", "version", "1", kNow - 30 * kDayMs);
  store.recordChange(change("a", "shop", "at", kNow - 30 * kDayMs));
  store.recordChange(change("a", "shop", "at", kNow - kDayMs));
  store.recordAnnouncement({"shop", "1", kNow - 30 * kDayMs, 0});
  store.flush();
  CHECK(store.queryChanges({}).size() == 2);
  store.pruneNow();
  const auto changes = store.queryChanges({});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].unixMs == kNow - kDayMs);
  CHECK(store.loadAnnouncements().size() == 1);
  CHECK(store.loadFacts().at("a").at("version") == "1");
  CHECK(store.firstSeen().at("a") == kNow - 30 * kDayMs);
  CHECK(store.queryTransitions(0).at("a").size() == 1);  // the latest transition stays
}

TEST_CASE("history store: queries from another thread while the writer writes", "[history]") {
  TempDir dir;
  auto options = optionsFor(dir);
  options.batchRows = 50;
  HistoryStore store(options);
  REQUIRE(store.enabled());
  constexpr int kRounds = 40, kPerRound = 100;
  std::size_t lastChanges = 0, lastSeries = 0;
  bool monotonic = true;
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    // Until the writes are done, and once more after.
    for (bool more = true; more;) {
      more = writing.load();
      ChangeQuery q;
      q.limit = 1'000'000;
      const auto changes = store.queryChanges(q).size();
      const auto seen = store.firstSeen().size();
      const auto transitions = store.queryTransitions(kNow - 500);
      monotonic = monotonic && changes >= lastChanges && seen >= lastSeries &&
                  transitions.size() <= kRounds * kPerRound;
      lastChanges = changes;
      lastSeries = seen;
    }
  });
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPerRound; ++i) {
      const std::string series = "s" + std::to_string(round * kPerRound + i);
      store.record(transition(series, kNow - 1000 + round, round % 2 == 0, "timeout"));
      store.recordChange(change(series, "shop", "at", kNow - 1000 + round));
      store.recordFact(series, "version", std::to_string(round), kNow);
    }
    if (round % 4 == 0) store.flush();
  }
  store.flush();
  writing = false;
  reader.join();
  CHECK(monotonic);
  CHECK(store.dropped() == 0);
  ChangeQuery q;
  q.limit = 1'000'000;
  CHECK(store.queryChanges(q).size() == kRounds * kPerRound);
  CHECK(store.firstSeen().size() == kRounds * kPerRound);
  CHECK(store.queryTransitions(0).size() == kRounds * kPerRound);
  CHECK(store.loadFacts().size() == kRounds * kPerRound);
}

TEST_CASE("history store: reads of a store without a file are empty", "[history]") {
  TempDir dir;
  auto options = optionsFor(dir);
  options.path = dir.write("a-file", "x") + "/data";
  HistoryStore store(options);
  REQUIRE_FALSE(store.enabled());
  store.recordFact("a", "version", "1", kNow);
  store.recordChange(change("a", "shop", "at", kNow));
  store.recordAnnouncement({"shop", "1", kNow, 0});
  store.flush();
  CHECK(store.loadFacts().empty());
  CHECK(store.loadAnnouncements().empty());
  CHECK(store.queryChanges({}).empty());
  CHECK(store.queryTransitions(0).empty());
  CHECK(store.firstSeen().empty());
}

TEST_CASE("history store: reads after close are empty", "[history]") {
  TempDir dir;
  HistoryStore store(optionsFor(dir));
  store.record(transition("a", kNow, false, "connect"));
  store.flush();
  CHECK(store.firstSeen().size() == 1);
  store.close();
  CHECK(store.firstSeen().empty());
  CHECK(store.queryTransitions(0).empty());
}
