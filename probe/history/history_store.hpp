#pragma once
// History that survives restarts: each series' state transitions (up/down, reason, detail,
// time) in <path>/history.sqlite, an SQLite database in WAL mode (synchronous=NORMAL: a crash or
// `kill -9` loses at most the batch not yet committed, about a second).
//
// Writes never run on the caller's thread: record() appends to a bounded queue and one writer
// thread commits it in batches (every second, or at once when `batchRows` are waiting), and
// deletes rows older than the retention once an hour (each series keeps its latest row, so a
// target down for longer than the retention still knows since when). Reads happen at startup
// only (loadLastStates), before probing starts.
//
// Never fatal: a file that is not SQLite or is corrupt is logged, moved aside to
// history.sqlite.corrupt-<unix time> and replaced by a fresh one; a directory that cannot be
// created or written is logged and the agent runs without history (enabled() false; record()
// drops).
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace envprobe {

struct HistoryTransition {
  std::string series;       // seriesKey(target id, address)
  std::int64_t unixMs = 0;  // when the result that changed the state finished
  bool up = false;
  std::string reason;  // "" when up
  std::string detail;  // cut to kMaxDetailBytes
};

// A series' latest stored state.
struct HistoryState {
  bool up = false;
  std::int64_t sinceUnixMs = 0;
  std::string reason, detail;
};

struct HistoryOptions {
  std::string path = "./data";  // the directory; the file is <path>/history.sqlite
  std::chrono::milliseconds retention = std::chrono::hours(24 * 14);
  std::size_t batchRows = 500;
  std::chrono::milliseconds batchInterval = std::chrono::seconds(1);
  std::chrono::milliseconds pruneInterval = std::chrono::hours(1);
  std::size_t queueCapacity = 100000;  // more waiting rows are dropped (and counted)
  // Wall clock in unix ms, for the retention cut-off (a fixed value in tests).
  std::function<std::int64_t()> nowMs;
};

class HistoryStore {
 public:
  static constexpr int kSchemaVersion = 1;
  static constexpr std::size_t kMaxDetailBytes = 1024;
  static constexpr const char* kFileName = "history.sqlite";

  // Opens (or creates) the store and starts its writer thread. Never throws.
  explicit HistoryStore(HistoryOptions options);
  ~HistoryStore();  // close(2 s)
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  bool enabled() const { return db_ != nullptr; }
  const std::string& file() const { return file_; }

  // Each series' latest transition. Call before record(), i.e. before probing starts.
  std::map<std::string, HistoryState> loadLastStates();
  // Those whose latest transition is down.
  std::map<std::string, HistoryState> loadDownSince();

  // Any thread; never blocks on disk.
  void record(HistoryTransition transition);
  // Waits until everything recorded so far is committed (or the store is closed).
  void flush();
  // Deletes rows past the retention now (on the writer thread) and waits for it.
  void pruneNow();
  // Commits what is queued within `bound`, then stops the writer and closes the file.
  void close(std::chrono::milliseconds bound = std::chrono::seconds(2));

  std::uint64_t dropped() const;
  std::thread::id writerThreadId() const { return writerId_; }
  std::thread::id lastCommitThreadId() const;

 private:
  bool openDatabase();
  void writerLoop();
  bool commit(std::deque<HistoryTransition>& batch);
  void prune();

  HistoryOptions options_;
  std::string file_;
  sqlite3* db_ = nullptr;
  std::thread writer_;
  std::thread::id writerId_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the writer: rows, a request, or stop
  std::condition_variable done_;  // flush()/pruneNow() callers
  std::deque<HistoryTransition> queue_;
  std::uint64_t enqueued_ = 0, committed_ = 0;  // committed_ counts dropped rows too
  std::uint64_t pruneRequested_ = 0, pruneDone_ = 0;
  std::uint64_t dropped_ = 0;
  bool flushRequested_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point stopDeadline_{};
  std::thread::id lastCommitThread_;
};

}  // namespace envprobe
