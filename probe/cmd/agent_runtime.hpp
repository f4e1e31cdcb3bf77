#pragma once
// The running agent as `run` and `demo` drive it: the probing engine, alerting (when configured)
// and the reload of both. A reload keeps every unchanged target's state (see
// SessionTable::reconcile), keeps alert state, keeps the Alertmanagers still listed with their
// queues, and swaps maintenance windows, DNS settings and scheduler limits in place.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "probe/alerting/delivery/alert_router.hpp"
#include "probe/alerting/delivery/alertmanager_client.hpp"
#include "probe/cmd/config_reloader.hpp"
#include "probe/deploy/change_tracker.hpp"
#include "probe/deploy/control_api.hpp"
#include "probe/deploy/deployments.hpp"
#include "probe/deploy/status_model.hpp"
#include "probe/engine/agent.hpp"
#include "probe/history/history_sink.hpp"
#include "probe/history/history_store.hpp"
#include "probe/io/event_loop.hpp"

namespace envprobe {

class AgentRuntime {
 public:
  // Throws std::runtime_error when the agent cannot be set up (resolver).
  AgentRuntime(AgentConfig config, EventLoop& loop);
  ~AgentRuntime();  // alerting first, then the agent
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  // The generatorURL base when the config names no external_url (the agent's own address).
  void setDefaultExternalUrl(std::string url) { defaultExternalUrl_ = std::move(url); }
  // Listen address in use: a reload that names another one says it needs a restart.
  void setListen(std::string listen, bool fromConfig);

  // Before start(): keep each series' state transitions, tracked facts, changes and the
  // announced deployments in the history store, and restore "down since", the facts, the last
  // changes and the announcements from it. A store that cannot be used is logged and the agent
  // runs without (changes are then still logged and exported, but not kept).
  void enableHistory(HistoryOptions options);
  HistoryStore* history() { return history_ && history_->enabled() ? history_.get() : nullptr; }
  Deployments& deployments() { return *deployments_; }
  // What the control API needs; valid while the runtime lives.
  ControlApiContext controlApi();
  // Any thread: the status page's model (history read on the calling thread). nullopt when
  // too many requests read the history at once (answer 503).
  std::optional<StatusPageModel> statusModel(const StatusFilter& filter);

  void start();  // alerting as configured, then probing
  // The shutdown sequence's first steps: stop probing, deliver what alerting still owes for at
  // most `bound` (runs the loop).
  void stop(Duration bound);
  // The last step before destruction, once nothing serves requests any more: commit the
  // history's queue (at most 2 s) and close it.
  void closeHistory();

  // On the loop: swaps in a loaded config, or keeps the running one and says why not.
  ReloadOutcome apply(ReloadCandidate& candidate, ReloadTrigger trigger);

  Agent& agent() { return *agent_; }
  const AgentConfig& config() const { return *config_; }
  // Thread-safe: the loop ran its heartbeat within the bound.
  bool healthy() const;
  static constexpr auto kHealthBound = std::chrono::seconds(5);

 private:
  void configureAlerting();
  void flushAlerts(Duration bound);
  void heartbeat();
  void refreshApiState();
  std::optional<std::string> refuseService(const std::string& service) const;

  EventLoop& loop_;
  std::shared_ptr<AgentConfig> config_;
  std::string env_;  // the environment: a reload cannot change it  // alerting reads it; a reload replaces it whole
  std::string defaultExternalUrl_;
  std::string listen_;
  bool listenFromConfig_ = false;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AlertmanagerClient> alertmanagers_;
  std::unique_ptr<AlertRouter> alerts_;
  std::unique_ptr<HistoryStore> history_;
  std::unique_ptr<HistorySink> historySink_;
  std::unique_ptr<Deployments> deployments_;
  std::unique_ptr<ChangeTracker> changeTracker_;
  prometheus::Counter* historyDropped_ = nullptr;
  std::uint64_t historyDroppedSeen_ = 0;
  // What HTTP threads read of the running config (a reload swaps config_ on the loop).
  mutable std::mutex apiMutex_;
  std::string apiToken_;
  std::map<std::string, bool> serviceVersioned_;
  std::vector<MaintenanceWindow> maintenance_;
  std::vector<std::shared_ptr<const ProbeTarget>> targets_;  // every target, for the gate
  Duration retention_{0};  // the history's, 0 without one
  std::set<std::string> firing_;  // copied from alerting on each heartbeat
  std::shared_ptr<ReadGate> readers_;  // bounds the requests that read the history at once  // catalog service -> has a check with version:
  prometheus::Gauge* reloadOk_ = nullptr;
  prometheus::Gauge* reloadTime_ = nullptr;
  OwnedTimer heartbeatTimer_;
  std::atomic<std::int64_t> lastBeatNs_{0};  // steady clock
};

}  // namespace envprobe
