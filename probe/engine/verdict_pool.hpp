#pragma once
// Judges observations off the event loop. Evaluating assertions is CPU work proportional to what
// a target sent (a JSON body of tens of MB, a regex over a large body); on the single loop thread
// one such body would delay every other target. The pool runs each evaluation on one of a few
// worker threads and hands the result back through a "post to loop" function, so completions run
// on the loop thread like every other callback (in the agent: EventLoop::post).
//
// Contract:
// - submit() moves the Observation into the job (no copy of the body) and gives it back, with its
//   Verdict, to the completion.
// - The queue of waiting jobs is bounded. A job submitted while it is full is not run: its
//   completion is posted at once with Verdict{ok=false, reason=Error, "verdict queue full"}, and
//   rejected() counts it. Back-pressure stays visible as failing probes instead of unbounded
//   memory (each waiting job holds a whole body).
// - cancel(ticket): the completion is never run after cancel() returns, whether the job is
//   waiting (it is dropped and its Observation freed), running (its result is discarded) or its
//   result is already posted (the posted task does nothing). Call cancel() on the thread that runs
//   posted tasks (the loop thread): that is where completions run, so there is no race with one
//   that has already started. Unknown or finished tickets are ignored.
// - An exception thrown by the evaluation becomes Verdict{ok=false, reason=Error,
//   "internal error: <what>"} and is counted by internalErrors().
// - stop() stops accepting (later submits return kNoTicket and never complete), drops the waiting
//   jobs and voids every completion not yet run; it does not block. shutdown() is stop() plus
//   joining the workers, so after it returns the pool never calls `post` again. The destructor
//   calls shutdown(). Posted tasks do not point at the pool, so the loop may run them after the
//   pool is gone (they do nothing).
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "checks/observation.hpp"
#include "checks/verdict.hpp"

namespace envprobe {

class VerdictPool {
 public:
  using Ticket = std::uint64_t;
  static constexpr Ticket kNoTicket = 0;

  using Post = std::function<void(std::function<void()>)>;       // must be callable from any thread
  // Runs on a worker thread; owns the job's Observation meanwhile and may normalise it.
  using Evaluate = std::function<Verdict(Observation&)>;
  using Completion = std::function<void(Observation, Verdict)>;  // runs inside a posted task

  struct Options {
    std::size_t threads = 2;
    std::size_t maxQueued = 1024;  // waiting jobs, not counting the ones running
  };

  explicit VerdictPool(Post post) : VerdictPool(std::move(post), Options{}) {}
  VerdictPool(Post post, Options options);
  // A reload's new in-flight cap: the queue holds at least as many jobs.
  void setMaxQueued(std::size_t maxQueued);
  ~VerdictPool();
  VerdictPool(const VerdictPool&) = delete;
  VerdictPool& operator=(const VerdictPool&) = delete;

  Ticket submit(Observation observation, Evaluate evaluate, Completion completion);
  void cancel(Ticket ticket);
  void stop();
  void shutdown();

  std::uint64_t internalErrors() const { return internalErrors_.load(); }
  std::uint64_t rejected() const { return rejected_.load(); }
  std::size_t queued() const;

 private:
  struct Job {
    Observation observation;
    Evaluate evaluate;
  };
  // Shared with posted tasks, which may outlive the pool.
  struct Deliveries {
    std::mutex mutex;
    std::map<Ticket, Completion> pending;  // completions that may still run
    bool voided = false;                   // stop(): nothing runs any more
  };

  void work();
  void deliver(Ticket ticket, Observation observation, Verdict verdict);

  Post post_;
  Options options_;
  std::shared_ptr<Deliveries> deliveries_ = std::make_shared<Deliveries>();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<Ticket, Job> queue_;  // tickets grow, so the first entry is the oldest
  Ticket nextTicket_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::mutex joinMutex_;  // shutdown() may be called twice (explicitly, then the destructor)

  std::atomic<std::uint64_t> internalErrors_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace envprobe
