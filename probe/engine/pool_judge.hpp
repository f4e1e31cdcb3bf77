#pragma once
// The production Judge: the target's assertions evaluated on the verdict worker pool, the
// completion posted back to the event loop. The Observation is moved, never copied. ProbeRun asks
// it only for observations that are not cheap to judge (HttpAssertions::cheapFor); the others are
// judged on the loop, without two thread hops.
#include "probe/engine/probe_run.hpp"
#include "probe/engine/verdict_pool.hpp"

namespace envprobe {

class PoolJudge : public Judge {
 public:
  PoolJudge(Timers& loop, VerdictPool::Options options)
      : pool_([&loop](std::function<void()> task) { loop.post(std::move(task)); }, options) {}

  Ticket judge(std::shared_ptr<const ProbeTarget> target, Observation observation,
               Completion done) override {
    auto assertions = target->assertions;  // shared: outlives a reload of the target
    return pool_.submit(
        std::move(observation),
        [assertions](Observation& o) {
          // The body's bytes become valid UTF-8 here, off the loop: it can be body_limit long.
          return assertions->evaluateOwned(o);
        },
        std::move(done));
  }
  void cancel(Ticket ticket) override { pool_.cancel(ticket); }
  // Shutdown: no new work, waiting jobs dropped, completions voided; then the workers join.
  void stop() { pool_.stop(); }
  void shutdown() { pool_.shutdown(); }
  void setMaxQueued(std::size_t maxQueued) { pool_.setMaxQueued(maxQueued); }

 private:
  VerdictPool pool_;
};

}  // namespace envprobe
