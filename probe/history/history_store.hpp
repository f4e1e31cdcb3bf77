#pragma once
// History that survives restarts, in <path>/history.sqlite, an SQLite database in WAL mode
// (synchronous=NORMAL: a crash or `kill -9` loses at most the batch not yet committed, about a
// second). It keeps:
//   - each series' state transitions (up/down, reason, detail, time);
//   - since when each series has been observed (its first transition; never pruned);
//   - the latest value of each tracked fact of each series (e.g. the version it serves);
//   - the changes of those facts (pruned by the retention);
//   - the latest announcement of each service (never pruned).
//
// Writes never run on the caller's thread: record*() append to one bounded queue and one writer
// thread commits it in batches (every second, or at once when `batchRows` are waiting), and
// deletes transitions and changes older than the retention once an hour (each series keeps its
// latest transition, so a target down for longer than the retention still knows since when).
// Reads run on a read-only connection of their own (opened on first use, guarded by its own
// mutex): queries may come from any thread while the writer writes (WAL readers do not block
// the writer, nor it them).
//
// Never fatal: a file that is not SQLite or is corrupt is logged, moved aside to
// history.sqlite.corrupt-<unix time> and replaced by a fresh one; a file written by a newer
// envprobe (an unknown schema version) likewise, to history.sqlite.newer-<unix time>; a version-1
// file is migrated in place, its rows kept. A directory that cannot be created or written is
// logged and the agent runs without history (enabled() false; record*() drop, reads are empty).
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
#include <variant>
#include <vector>

#include "probe/history/history_types.hpp"

namespace envprobe {

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
  static constexpr int kSchemaVersion = 2;
  static constexpr std::size_t kMaxDetailBytes = 1024;
  static constexpr const char* kFileName = "history.sqlite";

  // Opens (or creates, or migrates) the store and starts its writer thread. Never throws.
  explicit HistoryStore(HistoryOptions options);
  ~HistoryStore();  // close(2 s)
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  bool enabled() const { return db_ != nullptr; }
  const std::string& file() const { return file_; }

  // --- Startup reads (any thread, but meant for before probing starts) ---
  // Each series' latest transition.
  std::map<std::string, HistoryState> loadLastStates();
  // Those whose latest transition is down.
  std::map<std::string, HistoryState> loadDownSince();
  // series -> what -> latest value.
  std::map<std::string, std::map<std::string, std::string>> loadFacts();
  // Each service's latest announcement, by service.
  std::vector<Announcement> loadAnnouncements();

  // --- Queries (any thread, any time) ---
  // The changes matching `q`, newest first, at most q.limit.
  std::vector<FactChange> queryChanges(const ChangeQuery& q) const;
  // For each series: its transitions with unixMs >= sinceUnixMs, preceded by its latest
  // transition before sinceUnixMs when there is one (so the state at `since` is known); oldest
  // first. A series with neither is absent.
  std::map<std::string, std::vector<HistoryTransition>> queryTransitions(
      std::int64_t sinceUnixMs) const;
  // series -> since when it has been observed (its first recorded transition).
  std::map<std::string, std::int64_t> firstSeen() const;

  // --- Writes (any thread; never block on disk; committed by the writer thread in order) ---
  void record(HistoryTransition transition);
  // The latest value of a fact of a series (replaces the previous one).
  void recordFact(std::string series, std::string what, std::string value, std::int64_t unixMs);
  void recordChange(FactChange change);
  // The latest announcement of a.service (replaces the previous one).
  void recordAnnouncement(Announcement a);
  // Records and waits for the commit: false when it was not committed (the store is stopping,
  // its queue is full, or the commit failed; conservatively also when another row was dropped
  // meanwhile).
  bool recordAnnouncementDurably(Announcement a);
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
  struct Fact {
    std::string series, what, value;
    std::int64_t unixMs = 0;
  };
  using Write = std::variant<HistoryTransition, Fact, FactChange, Announcement>;

  bool openDatabase();
  void enqueue(Write write);
  void writerLoop();
  bool commit(const std::deque<Write>& batch);
  void prune();
  // The read-only connection, opened on first use; null when there is none. Hold readMutex_.
  sqlite3* reader() const;

  HistoryOptions options_;
  std::string file_;
  sqlite3* db_ = nullptr;  // the writer's; set before the writer starts, cleared after it stops
  std::thread writer_;
  std::thread::id writerId_;

  mutable std::mutex readMutex_;  // guards readDb_, readClosed_, readOpenLogged_
  mutable sqlite3* readDb_ = nullptr;
  bool readable_ = false;  // the file was usable at startup; set once, before any read
  bool readClosed_ = false;
  mutable bool readOpenLogged_ = false;  // a failure to open it is logged once

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the writer: rows, a request, or stop
  std::condition_variable done_;  // flush()/pruneNow() callers
  std::deque<Write> queue_;
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
