#pragma once
// The probe scheduler: decides when each target runs. Pure: time and randomness are passed in.
//
// Every target owns one run per slot; slots are addTime + phase + n * interval, where the phase is
// FNV-1a(id) % interval so load is spread and does not depend on the order targets were added.
// A run becomes due at its slot plus a fresh jitter offset in [0, jitter * interval), and lives
// until the next slot: a run not started by then is skipped (counted), never doubled up. That one
// rule covers a target still in flight, a run waiting for in-flight capacity, and a caller that
// is late by many intervals (suspend): at most one run per target is ever returned per slot.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace envprobe {

struct SchedulerOptions {
  double jitter = 0.05;          // fraction of the interval, clamped to [0, 0.5]
  std::size_t maxInflight = 256;  // global cap on runs handed out and not yet completed; >= 1
  std::uint64_t seed = 1;        // seeds the jitter PRNG so runs are reproducible
};

struct DueRun {
  std::uint64_t targetKey;
  std::chrono::steady_clock::time_point scheduled;  // the slot, free of jitter
  std::chrono::steady_clock::time_point due;        // slot + jitter; lag = now - due
};

class Scheduler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Scheduler(SchedulerOptions options);

  // Adds a target; returns a key unique for the scheduler's lifetime (never reused). Its low 32
  // bits are the target's slot (slotOf), a small number reused after a removal, so callers can
  // keep per-target data in a vector.
  // Throws std::invalid_argument if interval is not positive (config validation rejects it).
  std::uint64_t add(const std::string& id, std::chrono::milliseconds interval, TimePoint now);
  // Forgets a target. If it is in flight its capacity is freed now and its complete() is ignored.
  void remove(std::uint64_t targetKey);

  // The earliest time popDue would return something (or needs to advance state); nullopt if no
  // targets. May be in the past when capacity has freed for waiting runs.
  std::optional<TimePoint> nextDeadline() const;
  // All runs due at `now`, marked in flight, at most the free capacity, oldest due first.
  std::vector<DueRun> popDue(TimePoint now);
  // The run of targetKey finished (success or failure alike). Unknown or idle keys are ignored.
  void complete(std::uint64_t targetKey);

  // A reload's new jitter and cap: they apply from the next slot and the next popDue on; every
  // target keeps its slot. Runs already in flight above a lowered cap finish normally.
  void setLimits(double jitter, std::size_t maxInflight);
  // Gives back the room left in its vectors after many adds or removes (stale timers go too).
  void shrinkToFit();

  std::size_t inflight() const { return inflight_; }
  std::size_t maxInflight() const { return maxInflight_; }
  std::size_t targetCount() const { return live_; }
  std::size_t waitingCount() const { return waiting_.size(); }
  std::uint64_t skippedRuns() const { return skipped_; }  // total since construction

  static std::uint64_t phaseHash(const std::string& id);  // FNV-1a 64
  static std::uint32_t slotOf(std::uint64_t key) { return static_cast<std::uint32_t>(key); }

 private:
  using Clock = std::chrono::steady_clock;

  // Kept in a vector by slot: 40 bytes a target, no node or bucket of a hash map.
  struct Target {
    Clock::duration interval{0};
    TimePoint scheduled;  // slot of the current (not yet started) run
    TimePoint due;        // scheduled + this run's jitter
    std::uint32_t timerGen = 0;  // carried over when the slot is reused: old timers stay stale
    std::uint32_t keyGen = 0;    // the high half of the key; grows each time the slot is reused
    bool live = false;
    bool waiting = false;   // due, queued for capacity
    bool inflight = false;  // a previous run was handed out and not completed
  };

  // Heap entries are never updated in place; a generation mismatch marks an entry stale.
  struct Timer {
    TimePoint at;
    std::uint32_t slot;
    std::uint32_t gen;
  };
  struct TimerLater {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.at != b.at ? a.at > b.at : a.slot > b.slot;
    }
  };

  // The live target of `key`, or nullptr.
  Target* find(std::uint64_t key);
  std::uint64_t keyOf(std::uint32_t slot) const {
    return (static_cast<std::uint64_t>(targets_[slot].keyGen) << 32) | slot;
  }
  void fire(std::uint32_t slot, TimePoint now);
  void startSlot(Target& target, TimePoint slot);
  void setTimer(std::uint32_t slot, TimePoint at);
  bool isLive(const Timer& timer) const;
  void pruneTop();
  void compactIfSparse();
  void dropStaleTimers();
  Clock::duration jitterFor(Clock::duration interval);
  std::uint64_t nextRandom();

  double jitter_;
  std::size_t maxInflight_;
  std::uint64_t rngState_;
  std::size_t inflight_ = 0;
  std::uint64_t skipped_ = 0;
  std::vector<Target> targets_;          // by slot
  std::vector<std::uint32_t> freeSlots_;  // slots of removed targets, for the next add
  std::size_t live_ = 0;
  std::vector<Timer> timers_;  // min-heap by (at, key) via TimerLater
  std::set<std::pair<TimePoint, std::uint64_t>> waiting_;  // (due, key): FIFO by due time
};

}  // namespace envprobe
