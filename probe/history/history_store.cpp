// The history store's life: opening (moving an unusable file aside), the bounded write queue,
// the writer thread's loop, flush and close. Commits and pruning: history_writes.cpp; reads:
// history_queries.cpp; the schema: history_schema.cpp.
#include "probe/history/history_store.hpp"

#include <filesystem>
#include <system_error>

#include "probe/base/logging.hpp"
#include "probe/history/history_sql.hpp"

namespace envprobe {

namespace {

namespace fs = std::filesystem;
using history_sql::cutText;
using history_sql::DbError;

std::int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
  readable_ = true;
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
      error = history_sql::errorOf(db, "open");
    else
      error = history_sql::initDatabase(db);
    if (!error) {
      db_ = db;
      return true;
    }
    sqlite3_close_v2(db);
    if (!error->moveAside || attempt > 0) {
      logError("history: cannot use the store; running without history",
               {{"file", file_}, {"err", error->message}});
      return false;
    }
    const std::string aside =
        file_ + "." + error->asideTag + "-" + std::to_string(options_.nowMs() / 1000);
    std::error_code ec;
    fs::rename(file_, aside, ec);
    if (ec) {
      logError("history: the store cannot be used nor moved aside; running without history",
               {{"file", file_}, {"err", error->message}, {"rename_err", ec.message()}});
      return false;
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ignored;
      if (fs::exists(file_ + suffix, ignored)) fs::rename(file_ + suffix, aside + suffix, ignored);
    }
    logError(error->asideTag == "corrupt"
                 ? "history: the store is not a readable SQLite database; moved it aside and "
                   "started a fresh one"
                 : "history: the store has a schema version this envprobe does not know; moved "
                   "it aside and started a fresh one",
             {{"file", file_}, {"moved_to", aside}, {"err", error->message}});
  }
  return false;
}

void HistoryStore::record(HistoryTransition transition) {
  if (!db_) return;
  transition.detail = cutText(std::move(transition.detail), kMaxDetailBytes);
  enqueue(std::move(transition));
}

void HistoryStore::recordFact(std::string series, std::string what, std::string value,
                              std::int64_t unixMs) {
  if (!db_) return;
  enqueue(
      Fact{std::move(series), std::move(what), cutText(std::move(value), kMaxDetailBytes), unixMs});
}

void HistoryStore::recordChange(FactChange change) {
  if (!db_) return;
  change.oldValue = cutText(std::move(change.oldValue), kMaxDetailBytes);
  change.newValue = cutText(std::move(change.newValue), kMaxDetailBytes);
  enqueue(std::move(change));
}

void HistoryStore::recordAnnouncement(Announcement a) {
  if (!db_) return;
  a.version = cutText(std::move(a.version), kMaxDetailBytes);
  enqueue(std::move(a));
}

bool HistoryStore::recordAnnouncementDurably(Announcement a) {
  std::uint64_t droppedBefore = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_ || stopping_) return false;
    droppedBefore = dropped_;
  }
  recordAnnouncement(std::move(a));
  flush();
  std::lock_guard<std::mutex> lock(mutex_);
  return !stopped_ && dropped_ == droppedBefore;
}

void HistoryStore::enqueue(Write write) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || queue_.size() >= options_.queueCapacity) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(write));
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
  if (lost > 0) logWarn("history: rows not written", {{"file", file_}, {"dropped", lost}});
  {
    std::lock_guard<std::mutex> lock(readMutex_);
    readClosed_ = true;
    sqlite3_close_v2(readDb_);
    readDb_ = nullptr;
  }
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
      std::deque<Write> batch;
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

}  // namespace envprobe
