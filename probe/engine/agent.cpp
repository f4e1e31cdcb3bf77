#include "probe/engine/agent.hpp"

#include <algorithm>
#include <deque>
#include <random>
#include <map>

#include "probe/catalog/catalog_expander.hpp"
#include "probe/base/logging.hpp"

namespace envprobe {

std::vector<std::shared_ptr<ProbeTarget>> prepareTargets(const AgentConfig& config) {
  std::map<const HttpCheckSpec*, std::shared_ptr<const HttpAssertions>> compiled;
  std::vector<std::shared_ptr<ProbeTarget>> out;
  for (auto& target : CatalogExpander(config).expand(config.environment)) {
    auto& assertions = compiled[target.http.get()];
    if (!assertions)
      assertions = std::make_shared<const HttpAssertions>(target.http->expect, config.environment);
    out.push_back(prepareTarget(std::move(target), assertions));
  }
  return out;
}

Agent::Agent(const AgentConfig& config, EventLoop& loop)
    : config_(config),
      loop_(loop),
      registry_(std::make_shared<prometheus::Registry>()),
      probeMetrics_(std::make_shared<ProbeMetrics>()),
      agentMetrics_(*registry_, config.environment),
      resolver_(loop, config.dns),
      curl_(loop),
      prober_(loop, resolver_, curl_),
      scheduler_(SchedulerOptions{config.scheduler.jitter,
                                  static_cast<std::size_t>(config.scheduler.maxInflight),
                                  static_cast<std::uint64_t>(std::random_device{}())}) {
  const auto now = loop_.now();
  for (auto& target : prepareTargets(config)) {
    const std::uint64_t key = scheduler_.add(target->target.id, target->target.interval, now);
    targets_.emplace(key, std::move(target));
  }
  agentMetrics_.setTargets(targets_.size());
}

Agent::~Agent() {
  if (tickTimer_) loop_.cancelTimer(tickTimer_);
}

void Agent::onResult(const ProbeResult& result) {
  probeMetrics_->record(result);
  const Target& t = result.target->target;
  agentMetrics_.observeProbe(t.service, t.check, toString(t.visibility),
                             result.observation.durationSeconds, result.verdict.ok);
  if (!result.verdict.ok)
    logDebug("probe failed", {{"target", t.id},
                              {"address", result.address},
                              {"reason", toString(result.verdict.reason)},
                              {"detail", result.verdict.detail}});
  for (const auto& listener : listeners_) listener(result);
}

void Agent::launch(std::uint64_t key, const std::shared_ptr<const ProbeTarget>& target) {
  ++inflight_;
  agentMetrics_.setInflight(inflight_);
  prober_.probe(
      target, [this](ProbeResult result) { onResult(result); },
      [this, key] {
        --inflight_;
        agentMetrics_.setInflight(inflight_);
        scheduler_.complete(key);
        armTick();  // capacity freed: waiting runs may start
      });
}

void Agent::start() { armTick(); }

void Agent::armTick() {
  const auto next = scheduler_.nextDeadline();
  if (!next) return;
  if (tickTimer_ && *next >= tickAt_) return;  // already armed early enough
  if (tickTimer_) loop_.cancelTimer(tickTimer_);
  tickAt_ = *next;
  tickTimer_ = loop_.addTimer(*next, [this] {
    tickTimer_ = 0;
    tickAt_ = EventLoop::TimePoint::max();
    tick();
  });
}

void Agent::tick() {
  const auto now = loop_.now();
  for (const DueRun& run : scheduler_.popDue(now)) {
    auto it = targets_.find(run.targetKey);
    if (it == targets_.end()) {
      scheduler_.complete(run.targetKey);
      continue;
    }
    agentMetrics_.observeLag(std::chrono::duration<double>(now - run.due).count());
    launch(run.targetKey, it->second);
  }
  const std::uint64_t skipped = scheduler_.skippedRuns();
  if (skipped > skippedSeen_) {
    agentMetrics_.addSkipped(skipped - skippedSeen_);
    skippedSeen_ = skipped;
  }
  armTick();
}

void Agent::runOnce(std::function<void()> done) {
  struct OnceRun {
    std::deque<std::shared_ptr<const ProbeTarget>> queue;
    std::size_t remaining = 0;
    std::function<void()> done;
    std::function<void()> next;
  };
  auto state = std::make_shared<OnceRun>();
  for (const auto& [key, target] : targets_) state->queue.push_back(target);
  std::sort(state->queue.begin(), state->queue.end(),
            [](const auto& a, const auto& b) { return a->target.id < b->target.id; });
  state->remaining = state->queue.size();
  state->done = std::move(done);
  if (state->remaining == 0) {
    loop_.post(state->done);
    return;
  }
  std::weak_ptr<OnceRun> weak = state;
  state->next = [this, weak] {
    auto s = weak.lock();
    if (!s || s->queue.empty()) return;
    auto target = s->queue.front();
    s->queue.pop_front();
    prober_.probe(
        target, [this](ProbeResult result) { onResult(result); },
        [s] {
          if (--s->remaining == 0) s->done();
          else s->next();
        });
  };
  const std::size_t parallel =
      std::min<std::size_t>(state->queue.size(), static_cast<std::size_t>(config_.scheduler.maxInflight));
  // `state` stays alive through the callbacks that capture it.
  for (std::size_t i = 0; i < parallel; ++i) state->next();
}

}  // namespace envprobe
