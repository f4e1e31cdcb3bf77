#pragma once
// One session per target: everything about a target lives here or is keyed by it — its schedule
// slot (the scheduler key), its in-flight run (cancelled with the session), and the set of
// series it has published (one per address). Creating, replacing and removing a target is
// creating, replacing and removing its session.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "probe/engine/probe_run.hpp"
#include "probe/engine/result_sink.hpp"

namespace envprobe {

class TargetSession;

// Told when a session's run finished and its results were applied (not on cancel).
class RunListener {
 public:
  virtual void runFinished(TargetSession& session) = 0;

 protected:
  ~RunListener() = default;
};

class TargetSession {
 public:
  TargetSession(std::shared_ptr<const ProbeTarget> target, std::uint64_t scheduleKey,
                SessionOutputs& outputs);
  // Cancels a run in flight. Series stay: on shutdown the agent goes, its targets do not.
  ~TargetSession();
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // Starts a run; `listener` hears when it finished and its results were applied (not on
  // cancel). One pointer a session, where a callback would be four.
  void startRun(ProbeIo& io, RunListener& listener);
  void cancelRun();
  // The target is leaving: cancel, then remove every series (their alerts resolve).
  void retire();

  bool inFlight() const { return run_ != nullptr; }
  bool everStarted() const { return everStarted_; }
  const ProbeTarget& target() const { return *target_; }
  const std::shared_ptr<const ProbeTarget>& shared() const { return target_; }
  std::uint64_t scheduleKey() const { return scheduleKey_; }

 private:
  void apply(RunOutcome outcome);

  std::shared_ptr<const ProbeTarget> target_;
  std::uint64_t scheduleKey_;
  SessionOutputs& outputs_;
  std::unique_ptr<ProbeRun> run_;
  RunListener* listener_ = nullptr;  // of the run in flight
  std::vector<InternedString> addresses_;  // `address` label of each series published, sorted
  bool everStarted_ = false;
};

}  // namespace envprobe
