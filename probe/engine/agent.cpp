#include "probe/engine/agent.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "probe/base/logging.hpp"
#include "probe/catalog/catalog_expander.hpp"

namespace envprobe {

namespace {

// Queue at least as deep as the in-flight cap, so "queue full" means real overload.
std::size_t verdictQueueDepth(const AgentConfig& config) {
  return std::max<std::size_t>(1024, static_cast<std::size_t>(config.scheduler.maxInflight));
}

}  // namespace

std::vector<std::shared_ptr<ProbeTarget>> prepareTargets(const AgentConfig& config) {
  std::map<const HttpCheckSpec*, std::shared_ptr<const HttpAssertions>> compiled;
  std::vector<std::shared_ptr<ProbeTarget>> out;
  for (auto& target : CatalogExpander(config).expand(config.environment)) {
    auto& assertions = compiled[target.http.get()];
    if (!assertions)
      assertions = std::make_shared<const HttpAssertions>(*target.http, config.environment);
    out.push_back(prepareTarget(std::move(target), assertions));
  }
  return out;
}

// The probe series and the agent's own probe metrics.
class Agent::MetricsSink : public ResultSink {
 public:
  MetricsSink(ProbeMetrics& series, AgentMetrics& agent) : series_(series), agent_(agent) {}
  void onResult(const ProbeResult& result) override {
    series_.record(result);
    const Target& t = result.target->target;
    agent_.observeProbe(t.service, t.check, toString(t.visibility),
                        result.observation.durationSeconds, result.verdict.ok);
    if (!result.verdict.ok)
      logDebug("probe failed", {{"target", t.id},
                                {"address", result.address},
                                {"reason", toString(result.verdict.reason)},
                                {"detail", result.verdict.detail}});
  }
  void onSeriesRemoved(const Target& target, const std::string& address) override {
    series_.removeSeries(target.id, address);
  }

 private:
  ProbeMetrics& series_;
  AgentMetrics& agent_;
};

class Agent::ListenerSink : public ResultSink {
 public:
  explicit ListenerSink(Listener listener) : listener_(std::move(listener)) {}
  void onResult(const ProbeResult& result) override { listener_(result); }
  void onSeriesRemoved(const Target&, const std::string&) override {}

 private:
  Listener listener_;
};

Agent::Agent(const AgentConfig& config, EventLoop& loop)
    : loop_(loop),
      registry_(std::make_shared<prometheus::Registry>()),
      probeMetrics_(std::make_shared<ProbeMetrics>(config.metrics)),
      agentMetrics_(*registry_, config.environment, config.metrics),
      resolver_(loop, config.dns),
      curl_(loop),
      http_(loop, curl_),
      judge_(loop, VerdictPool::Options{2, verdictQueueDepth(config)}),
      io_{loop, resolver_, http_, judge_},
      metricsSink_(std::make_unique<MetricsSink>(*probeMetrics_, agentMetrics_)) {
  SessionTableObserver observer;
  observer.lag = [this](double s) { agentMetrics_.observeLag(s); };
  observer.inflight = [this](std::size_t n) { agentMetrics_.setInflight(n); };
  observer.skipped = [this](std::uint64_t n) { agentMetrics_.addSkipped(n); };
  observer.targets = [this](std::size_t n) { agentMetrics_.setTargets(n); };
  observer.ready = [this] { ready_.store(true); };
  observer.awaitingFirstRun = [this](std::size_t n) { noteAwaiting(n); };
  sessions_ = std::make_unique<SessionTable>(
      io_,
      SchedulerOptions{config.scheduler.jitter,
                       static_cast<std::size_t>(config.scheduler.maxInflight),
                       static_cast<std::uint64_t>(std::random_device{}())},
      std::move(observer));
  sessions_->addSink(*metricsSink_);
  sessions_->addSink(stateLogSink_);
  for (auto& target : prepareTargets(config)) sessions_->add(std::move(target));
  agentMetrics_.setTargets(sessions_->size());
}

Agent::~Agent() {
  stop();
  sessions_.reset();  // before the adapters and sinks they use
  judge_.shutdown();  // join the workers while what they read still exists
}

void Agent::addListener(Listener listener) {
  listenerSinks_.push_back(std::make_unique<ListenerSink>(std::move(listener)));
  sessions_->addSink(*listenerSinks_.back());
}

void Agent::start() {
  startedAt_ = std::chrono::steady_clock::now();
  sessions_->start();
  noteAwaiting(sessions_->awaitingFirstRun());
}

// Once after start, when the last target's first run has started: one log line with how long the
// first round took (about one interval: each target's first run is at its phase).
void Agent::noteAwaiting(std::size_t n) {
  agentMetrics_.setAwaitingFirstRun(n);
  if (n > 0 || firstRoundLogged_ || !ready_.load()) return;
  firstRoundLogged_ = true;
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - startedAt_;
  logInfo("first round started", {{"targets", sessions_->size()}, {"seconds", took.count()}});
}

void Agent::runOnce(std::function<void()> done) { sessions_->runOnce(std::move(done)); }

TargetDiff Agent::reconfigure(const AgentConfig& config,
                              const std::vector<std::shared_ptr<ProbeTarget>>& targets) {
  resolver_.reconfigure(config.dns);  // throws before anything changed
  sessions_->setLimits(config.scheduler.jitter,
                       static_cast<std::size_t>(config.scheduler.maxInflight));
  judge_.setMaxQueued(verdictQueueDepth(config));
  std::vector<std::shared_ptr<const ProbeTarget>> prepared(targets.begin(), targets.end());
  return sessions_->reconcile(prepared);
}

void Agent::stop() {
  sessions_->stop();
  judge_.stop();
  http_.cancelAll();
  resolver_.cancelAll();
}

}  // namespace envprobe
