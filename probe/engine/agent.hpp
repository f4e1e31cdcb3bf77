#pragma once
// The agent: targets, scheduler and prober wired onto one event loop. Decide, then apply: each
// result is a value handed to the metrics and to listeners (alerting, `once`).
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "probe/metrics/agent_metrics.hpp"
#include "probe/config/config_model.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/dns_resolver.hpp"
#include "probe/io/event_loop.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/engine/prober.hpp"
#include "probe/schedule/scheduler.hpp"

namespace envprobe {

// Expands the agent's environment and compiles each check's assertions once.
std::vector<std::shared_ptr<ProbeTarget>> prepareTargets(const AgentConfig& config);

class Agent {
 public:
  using Listener = std::function<void(const ProbeResult&)>;

  // Throws std::runtime_error when the resolver cannot be set up.
  Agent(const AgentConfig& config, EventLoop& loop);
  ~Agent();

  void addListener(Listener listener) { listeners_.push_back(std::move(listener)); }
  // Probes on schedule from now on.
  void start();
  // Probes every target once (respecting the in-flight cap), then calls `done` on the loop.
  void runOnce(std::function<void()> done);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  std::shared_ptr<ProbeMetrics> probeMetrics() const { return probeMetrics_; }
  std::size_t targetCount() const { return targets_.size(); }
  const AgentConfig& config() const { return config_; }
  CurlDriver& curl() { return curl_; }

 private:
  void onResult(const ProbeResult& result);
  void tick();
  void armTick();
  void launch(std::uint64_t key, const std::shared_ptr<const ProbeTarget>& target);

  const AgentConfig& config_;
  EventLoop& loop_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProbeMetrics> probeMetrics_;
  AgentMetrics agentMetrics_;
  DnsResolver resolver_;
  CurlDriver curl_;
  Prober prober_;
  Scheduler scheduler_;
  std::unordered_map<std::uint64_t, std::shared_ptr<const ProbeTarget>> targets_;
  std::vector<Listener> listeners_;
  EventLoop::TimerId tickTimer_ = 0;
  EventLoop::TimePoint tickAt_ = EventLoop::TimePoint::max();
  std::uint64_t skippedSeen_ = 0;
  std::size_t inflight_ = 0;
};

}  // namespace envprobe
