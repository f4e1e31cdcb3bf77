#pragma once
// The agent: the real adapters (c-ares, curl) on one event loop, the target sessions, and the
// probe series. Shutdown is a sequence the owner drives: stop() (no new runs, runs in flight
// cancelled, their DNS queries and transfers with them), then flush alerts, then destroy.
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "probe/config/config_model.hpp"
#include "probe/engine/pool_judge.hpp"
#include "probe/engine/session_table.hpp"
#include "probe/engine/state_log_sink.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/curl_transport.hpp"
#include "probe/io/reloadable_resolver.hpp"
#include "probe/io/event_loop.hpp"
#include "probe/metrics/agent_metrics.hpp"
#include "probe/metrics/probe_metrics.hpp"

namespace envprobe {

// Expands the agent's environment and compiles each check's assertions once.
std::vector<std::shared_ptr<ProbeTarget>> prepareTargets(const AgentConfig& config);

class Agent {
 public:
  using Listener = std::function<void(const ProbeResult&)>;

  // Throws std::runtime_error when the resolver cannot be set up.
  Agent(const AgentConfig& config, EventLoop& loop);
  ~Agent();

  void addSink(ResultSink& sink) { sessions_->addSink(sink); }
  void removeSink(ResultSink& sink) { sessions_->removeSink(sink); }
  void setAmender(ResultAmender* amender) { sessions_->setAmender(amender); }
  void addListener(Listener listener);
  void start();
  void runOnce(std::function<void()> done);
  void stop();

  // A reload (on the loop), with the new config and its prepared targets (prepareTargets, done
  // off the loop). DNS settings first: when they cannot be applied it throws
  // std::runtime_error and nothing has changed. Then the scheduler's limits, then the sessions
  // (see SessionTable::reconcile). The environment must be the same.
  TargetDiff reconfigure(const AgentConfig& config,
                         const std::vector<std::shared_ptr<ProbeTarget>>& targets);

  // Readiness: loaded, every target has its slot, probing started (thread-safe). The first
  // round's progress is envprobe_targets_awaiting_first_run and one log line at its end.
  bool ready() const { return ready_.load(); }
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  std::shared_ptr<ProbeMetrics> probeMetrics() const { return probeMetrics_; }
  std::size_t targetCount() const { return sessions_->size(); }
  // On the loop: every target now.
  std::vector<std::shared_ptr<const ProbeTarget>> targets() const { return sessions_->targets(); }
  CurlDriver& curl() { return curl_; }

 private:
  class MetricsSink;
  class ListenerSink;

  EventLoop& loop_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProbeMetrics> probeMetrics_;
  AgentMetrics agentMetrics_;
  // Adapters before the sessions that use them, so the sessions go first.
  ReloadableResolver resolver_;
  CurlDriver curl_;
  CurlTransport http_;
  PoolJudge judge_;
  ProbeIo io_;
  std::unique_ptr<MetricsSink> metricsSink_;
  StateLogSink stateLogSink_{loop_};  // "target down" / "target recovered"
  std::vector<std::unique_ptr<ListenerSink>> listenerSinks_;
  std::unique_ptr<SessionTable> sessions_;
  std::atomic<bool> ready_{false};
  std::chrono::steady_clock::time_point startedAt_{};
  bool firstRoundLogged_ = false;
  void noteAwaiting(std::size_t n);
};

}  // namespace envprobe
