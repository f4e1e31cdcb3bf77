#include "probe/history/history_store.hpp"

#include <filesystem>
#include <system_error>

#include "probe/base/logging.hpp"
#include <optional>

namespace envprobe {

namespace {

namespace fs = std::filesystem;

std::int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An SQLite failure: the message and whether it means the file is not (or no longer) a usable
// database, which moving it aside cures.
struct DbError {
  std::string message;
  bool corrupt = false;
};

DbError errorOf(sqlite3* db, const std::string& what) {
  const int code = sqlite3_extended_errcode(db) & 0xff;
  return {what + ": " + sqlite3_errmsg(db), code == SQLITE_NOTADB || code == SQLITE_CORRUPT};
}

// Runs `sql`; each row's first column goes to `onRow` (when given).
std::optional<DbError> exec(sqlite3* db, const std::string& sql,
                            const std::function<void(const std::string&)>& onRow = {}) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return errorOf(db, sql);
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

std::string cutDetail(const std::string& detail) {
  if (detail.size() <= HistoryStore::kMaxDetailBytes) return detail;
  // Cut on a character boundary: back off continuation bytes.
  std::size_t n = HistoryStore::kMaxDetailBytes;
  while (n > 0 && (static_cast<unsigned char>(detail[n]) & 0xC0) == 0x80) --n;
  return detail.substr(0, n);
}

// The schema, version 1. `series` is seriesKey(target id, address).
constexpr const char* kSchema = R"sql(
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
PRAGMA user_version = 1;
)sql";

// Opens `file` and makes it a version-1 store in WAL mode.
std::optional<DbError> initDatabase(sqlite3* db) {
  sqlite3_busy_timeout(db, 1000);
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
  int version = -1;
  if (auto e = exec(db, "PRAGMA user_version",
                    [&](const std::string& v) { version = std::atoi(v.c_str()); }))
    return e;
  if (version == 0) {
    if (sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK)
      return errorOf(db, "creating the schema");
    return std::nullopt;
  }
  if (version > HistoryStore::kSchemaVersion)
    return DbError{"schema version " + std::to_string(version) +
                       " was written by a newer envprobe (this one knows version " +
                       std::to_string(HistoryStore::kSchemaVersion) + ")",
                   false};
  return std::nullopt;
}

}  // namespace

HistoryStore::HistoryStore(HistoryOptions options) : options_(std::move(options)) {
  if (!options_.nowMs) options_.nowMs = systemNowMs;
  file_ = (fs::path(options_.path) / kFileName).string();
  std::error_code ec;
  fs::create_directories(options_.path, ec);
  if (ec) {
    logError("history: cannot create the storage directory; running without history",
             {{"path", options_.path}, {"err", ec.message()}});
    return;
  }
  if (!openDatabase()) return;
  prune();
  writer_ = std::thread([this] { writerLoop(); });
  writerId_ = writer_.get_id();
}

HistoryStore::~HistoryStore() { close(); }

bool HistoryStore::openDatabase() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    std::optional<DbError> error;
    if (sqlite3_open_v2(file_.c_str(), &db, flags, nullptr) != SQLITE_OK)
      error = errorOf(db, "open");
    else
      error = initDatabase(db);
    if (!error) {
      db_ = db;
      return true;
    }
    sqlite3_close_v2(db);
    if (!error->corrupt || attempt > 0) {
      logError("history: cannot use the store; running without history",
               {{"file", file_}, {"err", error->message}});
      return false;
    }
    const std::string aside = file_ + ".corrupt-" + std::to_string(options_.nowMs() / 1000);
    std::error_code ec;
    fs::rename(file_, aside, ec);
    if (ec) {
      logError("history: the store is corrupt and cannot be moved aside; running without history",
               {{"file", file_}, {"err", error->message}, {"rename_err", ec.message()}});
      return false;
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ignored;
      if (fs::exists(file_ + suffix, ignored)) fs::rename(file_ + suffix, aside + suffix, ignored);
    }
    logError("history: the store is not a readable SQLite database; moved it aside and started "
             "a fresh one",
             {{"file", file_}, {"moved_to", aside}, {"err", error->message}});
  }
  return false;
}

std::map<std::string, HistoryState> HistoryStore::loadLastStates() {
  std::map<std::string, HistoryState> out;
  if (!db_) return out;
  const char* sql =
      "SELECT t.series, t.time_ms, t.up, t.reason, t.detail FROM transitions t "
      "JOIN (SELECT MAX(id) AS id FROM transitions GROUP BY series) last ON t.id = last.id";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    logError("history: cannot read the store", {{"file", file_}, {"err", sqlite3_errmsg(db_)}});
    return out;
  }
  auto text = [&](int column) {
    const auto* p = sqlite3_column_text(stmt, column);
    return std::string(p ? reinterpret_cast<const char*>(p) : "",
                       static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
  };
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    HistoryState state;
    state.sinceUnixMs = sqlite3_column_int64(stmt, 1);
    state.up = sqlite3_column_int(stmt, 2) != 0;
    state.reason = text(3);
    state.detail = text(4);
    out[text(0)] = std::move(state);
  }
  if (rc != SQLITE_DONE)
    logError("history: reading the store stopped early; what was read is used",
             {{"file", file_}, {"err", sqlite3_errmsg(db_)}, {"series", out.size()}});
  sqlite3_finalize(stmt);
  return out;
}

std::map<std::string, HistoryState> HistoryStore::loadDownSince() {
  auto states = loadLastStates();
  std::erase_if(states, [](const auto& entry) { return entry.second.up; });
  return states;
}

void HistoryStore::record(HistoryTransition transition) {
  if (!db_) return;
  transition.detail = cutDetail(transition.detail);
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || queue_.size() >= options_.queueCapacity) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(transition));
  ++enqueued_;
  if (queue_.size() >= options_.batchRows) wake_.notify_one();
}

void HistoryStore::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!db_ || stopped_) return;
  const auto target = enqueued_;
  flushRequested_ = true;
  wake_.notify_one();
  done_.wait(lock, [&] { return committed_ >= target || stopped_; });
}

void HistoryStore::pruneNow() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!db_ || stopped_) return;
  const auto target = ++pruneRequested_;
  wake_.notify_one();
  done_.wait(lock, [&] { return pruneDone_ >= target || stopped_; });
}

std::uint64_t HistoryStore::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::thread::id HistoryStore::lastCommitThreadId() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lastCommitThread_;
}

void HistoryStore::close(std::chrono::milliseconds bound) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!writer_.joinable() || stopping_) return;
    stopping_ = true;
    stopDeadline_ = std::chrono::steady_clock::now() + bound;
  }
  wake_.notify_one();
  writer_.join();
  const auto lost = dropped();
  if (lost > 0)
    logWarn("history: transitions not written", {{"file", file_}, {"dropped", lost}});
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

void HistoryStore::writerLoop() {
  auto nextPrune = std::chrono::steady_clock::now() + options_.pruneInterval;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.batchInterval, [&] {
      return stopping_ || flushRequested_ || pruneRequested_ > pruneDone_ ||
             queue_.size() >= options_.batchRows;
    });
    flushRequested_ = false;
    if (stopping_ && std::chrono::steady_clock::now() >= stopDeadline_) {
      dropped_ += queue_.size();
      committed_ += queue_.size();
      queue_.clear();
    }
    if (!queue_.empty()) {
      std::deque<HistoryTransition> batch;
      batch.swap(queue_);
      lock.unlock();
      commit(batch);
      lock.lock();
      committed_ += batch.size();
      lastCommitThread_ = std::this_thread::get_id();
    }
    const auto now = std::chrono::steady_clock::now();
    if (pruneRequested_ > pruneDone_ || (now >= nextPrune && !stopping_)) {
      const auto request = pruneRequested_;
      lock.unlock();
      prune();
      lock.lock();
      pruneDone_ = request;
      nextPrune = now + options_.pruneInterval;
    }
    done_.notify_all();
    if (stopping_ && queue_.empty()) break;
  }
  stopped_ = true;
  done_.notify_all();
}

bool HistoryStore::commit(std::deque<HistoryTransition>& batch) {
  auto fail = [&](const char* what) {
    logError("history: cannot write transitions; they are lost",
             {{"file", file_}, {"step", what}, {"err", sqlite3_errmsg(db_)},
              {"transitions", batch.size()}});
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    dropped_ += batch.size();
    return false;
  };
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("begin");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO transitions (series, time_ms, up, reason, detail) "
                         "VALUES (?, ?, ?, ?, ?)",
                         -1, &insert, nullptr) != SQLITE_OK)
    return fail("prepare");
  for (const auto& t : batch) {
    sqlite3_bind_text(insert, 1, t.series.data(), static_cast<int>(t.series.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, t.unixMs);
    sqlite3_bind_int(insert, 3, t.up ? 1 : 0);
    sqlite3_bind_text(insert, 4, t.reason.data(), static_cast<int>(t.reason.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(insert, 5, t.detail.data(), static_cast<int>(t.detail.size()),
                      SQLITE_STATIC);
    const int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (rc != SQLITE_DONE) {
      sqlite3_finalize(insert);
      return fail("insert");
    }
  }
  sqlite3_finalize(insert);
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("commit");
  return true;
}

void HistoryStore::prune() {
  const std::int64_t cutoff = options_.nowMs() - options_.retention.count();
  sqlite3_stmt* stmt = nullptr;
  const char* sql =
      "DELETE FROM transitions WHERE time_ms < ? AND id NOT IN "
      "(SELECT MAX(id) FROM transitions GROUP BY series)";
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    logError("history: cannot apply the retention", {{"file", file_}, {"err", sqlite3_errmsg(db_)}});
    return;
  }
  sqlite3_bind_int64(stmt, 1, cutoff);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    logError("history: cannot apply the retention", {{"file", file_}, {"err", sqlite3_errmsg(db_)}});
  else if (const int n = sqlite3_changes(db_); n > 0)
    logInfo("history: deleted transitions past the retention", {{"file", file_}, {"rows", n}});
  sqlite3_finalize(stmt);
}

}  // namespace envprobe
