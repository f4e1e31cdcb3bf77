// The history store's schema: creating it, migrating an older one in place, refusing a newer one;
// and the SQLite helpers the store's files share.
#include <cstdlib>

#include "probe/history/history_sql.hpp"
#include "probe/history/history_store.hpp"

namespace envprobe::history_sql {

namespace {

// Version 1: the transitions. `series` is seriesKey(target id, address).
constexpr const char* kTransitions = R"sql(
CREATE TABLE transitions (
  id      INTEGER PRIMARY KEY,
  series  TEXT    NOT NULL,
  time_ms INTEGER NOT NULL,
  up      INTEGER NOT NULL,
  reason  TEXT    NOT NULL,
  detail  TEXT    NOT NULL
);
CREATE INDEX transitions_by_series ON transitions(series, id);
CREATE INDEX transitions_by_time ON transitions(time_ms);
)sql";

// Version 1 -> 2: since when each series is observed (filled from the transitions kept), the
// facts and their changes, the announcements. The by-series index gains the time (a series'
// latest transition before a time is one seek); an SQLite index carries the rowid, so it still
// serves "latest id per series".
constexpr const char* kToVersion2 = R"sql(
DROP INDEX IF EXISTS transitions_by_series;
CREATE INDEX transitions_by_series_time ON transitions(series, time_ms);
CREATE TABLE series (
  series        TEXT    PRIMARY KEY,
  first_unix_ms INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO series (series, first_unix_ms)
  SELECT series, MIN(time_ms) FROM transitions GROUP BY series;
CREATE TABLE facts (
  series  TEXT    NOT NULL,
  what    TEXT    NOT NULL,
  value   TEXT    NOT NULL,
  unix_ms INTEGER NOT NULL,
  PRIMARY KEY (series, what)
) WITHOUT ROWID;
CREATE TABLE changes (
  id         INTEGER PRIMARY KEY,
  unix_ms    INTEGER NOT NULL,
  series     TEXT    NOT NULL,
  target_id  TEXT    NOT NULL,
  env        TEXT    NOT NULL,
  service    TEXT    NOT NULL,
  hostname   TEXT    NOT NULL,
  visibility TEXT    NOT NULL,
  check_name TEXT    NOT NULL,
  address    TEXT    NOT NULL,
  what       TEXT    NOT NULL,
  old_value  TEXT    NOT NULL,
  new_value  TEXT    NOT NULL
);
CREATE INDEX changes_by_time ON changes(unix_ms);
CREATE TABLE announcements (
  service            TEXT    PRIMARY KEY,
  version            TEXT    NOT NULL,
  announced_unix_ms  INTEGER NOT NULL,
  converge_within_ms INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

// Runs `script` in one transaction: all of it or nothing.
std::optional<DbError> runScript(sqlite3* db, const std::string& script, const std::string& what) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return errorOf(db, what + " (begin)");
  if (sqlite3_exec(db, script.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto error = errorOf(db, what);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return std::nullopt;
}

}  // namespace

DbError errorOf(sqlite3* db, const std::string& what) {
  const int code = sqlite3_extended_errcode(db) & 0xff;
  return {what + ": " + sqlite3_errmsg(db), code == SQLITE_NOTADB || code == SQLITE_CORRUPT};
}

std::optional<DbError> exec(sqlite3* db, const std::string& sql,
                            const std::function<void(const std::string&)>& onRow) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return errorOf(db, sql);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    if (onRow) onRow(text ? reinterpret_cast<const char*>(text) : "");
  }
  std::optional<DbError> error;
  if (rc != SQLITE_DONE) error = errorOf(db, sql);
  sqlite3_finalize(stmt);
  return error;
}

std::string cutText(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  // Back off continuation bytes: the character that starts at the cut is left out whole.
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  return text;
}

std::optional<DbError> initDatabase(sqlite3* db) {
  sqlite3_busy_timeout(db, 1000);
  // The version first: a file of a newer envprobe is left as it is (not even its journal mode
  // changed) to be moved aside.
  int version = -1;
  if (auto e = exec(db, "PRAGMA user_version",
                    [&](const std::string& v) { version = std::atoi(v.c_str()); }))
    return e;
  if (version < 0 || version > HistoryStore::kSchemaVersion)
    return DbError{"schema version " + std::to_string(version) +
                       " is unknown (written by a newer envprobe? this one knows version " +
                       std::to_string(HistoryStore::kSchemaVersion) + ")",
                   true, version > HistoryStore::kSchemaVersion ? "newer" : "unknown"};
  std::string mode;
  if (auto e = exec(db, "PRAGMA journal_mode=WAL", [&](const std::string& v) { mode = v; }))
    return e;
  if (mode != "wal") return DbError{"PRAGMA journal_mode=WAL answered \"" + mode + "\"", false};
  if (auto e = exec(db, "PRAGMA synchronous=NORMAL")) return e;
  std::string check;
  if (auto e = exec(db, "PRAGMA quick_check", [&](const std::string& v) {
        if (check.empty()) check = v;
      }))
    return e;
  if (check != "ok") return DbError{"integrity check failed: " + check, true};
  if (version == 0)
    return runScript(db, std::string(kTransitions) + kToVersion2, "creating the schema");
  if (version == 1) return runScript(db, kToVersion2, "migrating the schema from version 1 to 2");
  return std::nullopt;
}

}  // namespace envprobe::history_sql
