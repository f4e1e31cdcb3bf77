// The history store's reads, on a read-only connection of their own: any thread, any time, while
// the writer thread writes (WAL: a reader sees the last commit and blocks no one).
#include <algorithm>

#include "probe/base/logging.hpp"
#include "probe/history/history_sql.hpp"
#include "probe/history/history_store.hpp"

namespace envprobe {

namespace {

using history_sql::Statement;

// Steps `stmt` to its end, giving each row to `onRow`; logs when it stops early.
template <typename OnRow>
void readAll(sqlite3* db, Statement& stmt, const std::string& file, const char* what, OnRow onRow) {
  int rc;
  std::size_t rows = 0;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    onRow();
    ++rows;
  }
  if (rc != SQLITE_DONE)
    logError("history: reading the store stopped early; what was read is used",
             {{"file", file}, {"read", what}, {"err", sqlite3_errmsg(db)}, {"rows", rows}});
}

void logPrepareError(sqlite3* db, const std::string& file, const char* what) {
  logError("history: cannot read the store",
           {{"file", file}, {"read", what}, {"err", sqlite3_errmsg(db)}});
}

HistoryTransition transitionAt(const Statement& stmt) {
  HistoryTransition t;
  t.series = stmt.text(0);
  t.unixMs = stmt.int64(1);
  t.up = stmt.int64(2) != 0;
  t.reason = stmt.text(3);
  t.detail = stmt.text(4);
  return t;
}

}  // namespace

sqlite3* HistoryStore::reader() const {
  if (readDb_ || !readable_ || readClosed_) return readDb_;
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(file_.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    if (!readOpenLogged_)
      logError("history: cannot open the store for reading; its queries answer nothing",
               {{"file", file_}, {"err", db ? sqlite3_errmsg(db) : "out of memory"}});
    readOpenLogged_ = true;
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 1000);
  readDb_ = db;
  return readDb_;
}

std::map<std::string, HistoryState> HistoryStore::loadLastStates() {
  std::map<std::string, HistoryState> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db) return out;
  Statement stmt(db,
                 "SELECT t.series, t.time_ms, t.up, t.reason, t.detail FROM transitions t "
                 "JOIN (SELECT MAX(id) AS id FROM transitions GROUP BY series) last "
                 "ON t.id = last.id");
  if (!stmt) {
    logPrepareError(db, file_, "last states");
    return out;
  }
  readAll(db, stmt, file_, "last states", [&] {
    auto t = transitionAt(stmt);
    out[t.series] = HistoryState{t.up, t.unixMs, std::move(t.reason), std::move(t.detail)};
  });
  return out;
}

std::map<std::string, HistoryState> HistoryStore::loadDownSince() {
  auto states = loadLastStates();
  std::erase_if(states, [](const auto& entry) { return entry.second.up; });
  return states;
}

std::map<std::string, std::map<std::string, std::string>> HistoryStore::loadFacts() {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db) return out;
  Statement stmt(db, "SELECT series, what, value FROM facts");
  if (!stmt) {
    logPrepareError(db, file_, "facts");
    return out;
  }
  readAll(db, stmt, file_, "facts", [&] { out[stmt.text(0)][stmt.text(1)] = stmt.text(2); });
  return out;
}

std::vector<Announcement> HistoryStore::loadAnnouncements() {
  std::vector<Announcement> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db) return out;
  Statement stmt(db,
                 "SELECT service, version, announced_unix_ms, converge_within_ms "
                 "FROM announcements ORDER BY service");
  if (!stmt) {
    logPrepareError(db, file_, "announcements");
    return out;
  }
  readAll(db, stmt, file_, "announcements", [&] {
    out.push_back({stmt.text(0), stmt.text(1), stmt.int64(2), stmt.int64(3)});
  });
  return out;
}

std::vector<FactChange> HistoryStore::queryChanges(const ChangeQuery& q) const {
  std::vector<FactChange> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db || q.limit == 0) return out;
  // Walks changes_by_time backwards from the newest, filtering, until `limit` rows.
  Statement stmt(db,
                 "SELECT unix_ms, series, target_id, env, service, hostname, visibility, "
                 "check_name, address, what, old_value, new_value FROM changes "
                 "WHERE unix_ms >= ?1 AND (?2 = '' OR service = ?2) AND (?3 = '' OR env = ?3) "
                 "AND (?4 = '' OR series = ?4) ORDER BY unix_ms DESC, id DESC LIMIT ?5");
  if (!stmt) {
    logPrepareError(db, file_, "changes");
    return out;
  }
  stmt.bind(1, q.sinceUnixMs);
  stmt.bind(2, q.service);
  stmt.bind(3, q.env);
  stmt.bind(4, q.series);
  stmt.bindSize(5, q.limit);
  readAll(db, stmt, file_, "changes", [&] {
    FactChange c;
    c.unixMs = stmt.int64(0);
    int i = 1;
    for (std::string* text :
         {&c.series, &c.targetId, &c.env, &c.service, &c.hostname, &c.visibility, &c.check,
          &c.address, &c.what, &c.oldValue, &c.newValue})
      *text = stmt.text(i++);
    out.push_back(std::move(c));
  });
  return out;
}

std::map<std::string, std::vector<HistoryTransition>> HistoryStore::queryTransitions(
    std::int64_t sinceUnixMs) const {
  std::map<std::string, std::vector<HistoryTransition>> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db) return out;
  // The window's rows by transitions_by_time; each series' preceding row by one seek in
  // transitions_by_series_time (the series table lists them all). No ORDER BY: it would make
  // SQLite walk the whole by-series index instead of the window's part of the by-time one.
  Statement stmt(db,
                 "SELECT series, time_ms, up, reason, detail FROM transitions "
                 "WHERE time_ms >= ?1 "
                 "UNION ALL "
                 "SELECT t.series, t.time_ms, t.up, t.reason, t.detail FROM series s "
                 "JOIN transitions t ON t.id = (SELECT p.id FROM transitions p "
                 "WHERE p.series = s.series AND p.time_ms < ?1 "
                 "ORDER BY p.time_ms DESC, p.id DESC LIMIT 1)");
  if (!stmt) {
    logPrepareError(db, file_, "transitions");
    return out;
  }
  stmt.bind(1, sinceUnixMs);
  readAll(db, stmt, file_, "transitions", [&] {
    auto t = transitionAt(stmt);
    auto& rows = out[t.series];
    rows.push_back(std::move(t));
  });
  // The window's rows came in time order (then id), each preceding row after them.
  for (auto& [series, rows] : out)
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.unixMs < b.unixMs; });
  return out;
}

std::map<std::string, std::int64_t> HistoryStore::firstSeen() const {
  std::map<std::string, std::int64_t> out;
  std::lock_guard<std::mutex> lock(readMutex_);
  sqlite3* db = reader();
  if (!db) return out;
  Statement stmt(db, "SELECT series, first_unix_ms FROM series");
  if (!stmt) {
    logPrepareError(db, file_, "first seen");
    return out;
  }
  readAll(db, stmt, file_, "first seen", [&] { out.emplace(stmt.text(0), stmt.int64(1)); });
  return out;
}

}  // namespace envprobe
