#pragma once
// The agent's targets as sessions, keyed by target id, driven by the scheduler on the loop.
// Adding, replacing and removing a target is the only way its state comes and goes, so reload
// is a diff of session sets. stop() is the first step of the shutdown sequence: no run starts
// after it and every run in flight is cancelled (their completions are never applied).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "probe/catalog/target_diff.hpp"
#include "probe/engine/target_session.hpp"
#include "probe/schedule/scheduler.hpp"

namespace envprobe {

// What the table reports about itself (agent metrics in production).
struct SessionTableObserver {
  std::function<void(double seconds)> lag;
  std::function<void(std::size_t)> inflight;
  std::function<void(std::uint64_t)> skipped;  // newly skipped runs
  std::function<void(std::size_t)> targets;
  // Once, at start(): every target is loaded and has its slot (readiness, as in Prometheus:
  // loaded and serving; the first round itself takes up to one interval).
  std::function<void()> ready;
  // How many targets have not had their first run started yet (since start, or since a reload
  // added them); called whenever the count changes.
  std::function<void(std::size_t)> awaitingFirstRun;
};

class SessionTable {
 public:
  SessionTable(ProbeIo& io, SchedulerOptions options, SessionTableObserver observer = {});
  ~SessionTable();
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  void addSink(ResultSink& sink) { outputs_.sinks.push_back(&sink); }
  void removeSink(ResultSink& sink) { std::erase(outputs_.sinks, &sink); }
  // Sees every result before the sinks (nullptr: none).
  void setAmender(ResultAmender* amender) { outputs_.amender = amender; }

  // A new target is scheduled at its phase within its interval. An existing id is replaced (its
  // state restarts).
  void add(std::shared_ptr<const ProbeTarget> target);
  // The target leaves: its run is cancelled, its series removed, its alerts resolved.
  void remove(const std::string& id);

  // A config reload, matched by target id (see target_diff.hpp): an unchanged target keeps its
  // session (schedule slot, run in flight, series, alert state); a changed one restarts; a
  // removed one retires; an added one is scheduled at its phase within its interval.
  TargetDiff reconcile(const std::vector<std::shared_ptr<const ProbeTarget>>& targets);
  void setLimits(double jitter, std::size_t maxInflight) { scheduler_.setLimits(jitter, maxInflight); }

  void start();  // probe on schedule from now on
  void stop();   // no new runs; cancel every run in flight
  // Probes every target once (respecting the in-flight cap), then calls `done` on the loop.
  void runOnce(std::function<void()> done);

  std::size_t size() const { return sessions_.size(); }
  // Every target now, by id.
  std::vector<std::shared_ptr<const ProbeTarget>> targets() const;
  std::size_t inflight() const { return inflight_; }
  bool ready() const { return readySent_; }
  std::size_t awaitingFirstRun() const { return neverLaunched_; }

 private:
  void tick();
  void armTick();
  void beginRun(TargetSession& session);  // bookkeeping of a run that starts
  void endRun();                          // ... and of one that finished
  void runNextOnce();
  void finishOnce();
  bool removeSession(const std::string& id);
  void noteFirstLaunch(TargetSession& session);
  void reportAwaiting();
  void shrinkToFit();  // gives back the room left after adding many targets

  // Where a run's end goes: a scheduled run frees its slot's capacity; a `once` run starts the
  // next target of the round.
  struct ScheduledRuns final : RunListener {
    explicit ScheduledRuns(SessionTable& t) : table(t) {}
    void runFinished(TargetSession& session) override;
    SessionTable& table;
  };
  struct OnceRuns final : RunListener {
    explicit OnceRuns(SessionTable& t) : table(t) {}
    void runFinished(TargetSession& session) override;
    SessionTable& table;
  };

  ProbeIo& io_;
  ScheduledRuns scheduledRuns_{*this};
  OnceRuns onceRuns_{*this};
  Scheduler scheduler_;
  SessionTableObserver observer_;
  SessionOutputs outputs_;
  // By target id; each key views its session's target's id (no copy of the id). The sessions
  // live in the map's nodes, which never move.
  std::map<std::string_view, TargetSession> sessions_;
  // By the slot of its scheduler key (Scheduler::slotOf); nullptr where no session is.
  std::vector<TargetSession*> bySlot_;
  TargetSession* sessionOf(std::uint64_t key) const {
    const std::uint32_t slot = Scheduler::slotOf(key);
    TargetSession* s = slot < bySlot_.size() ? bySlot_[slot] : nullptr;
    return s && s->scheduleKey() == key ? s : nullptr;
  }
  OwnedTimer tick_;
  bool running_ = false;
  bool stopped_ = false;
  std::size_t inflight_ = 0;
  std::uint64_t skippedSeen_ = 0;
  std::size_t neverLaunched_ = 0;  // sessions whose first run has not started
  bool readySent_ = false;
  struct OnceRun;
  std::unique_ptr<OnceRun> once_;
};

}  // namespace envprobe
