#include "probe/cmd/agent_runtime.hpp"

#include <prometheus/registry.h>

#include <sstream>
#include <utility>

#include "probe/base/logging.hpp"
#include "probe/cmd/diagnostics_output.hpp"

namespace envprobe {

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(1);

std::int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "agent.yaml:12:5: error: services[0].name: ..." lines, for the API answer.
std::string describe(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics.items())
    if (d.severity == Severity::Error) out += d.format() + "\n";
  return out;
}

void logDiagnostics(const Diagnostics& diagnostics) {
  for (const auto& d : diagnostics.items()) logDiagnostic(d);
}

}  // namespace

AgentRuntime::AgentRuntime(AgentConfig config, EventLoop& loop)
    : loop_(loop),
      config_(std::make_shared<AgentConfig>(std::move(config))),
      env_(config_->environment),
      agent_(std::make_unique<Agent>(*config_, loop)),
      heartbeatTimer_(loop) {
  auto& registry = *agent_->registry();
  reloadOk_ = &prometheus::BuildGauge()
                   .Name("envprobe_config_last_reload_successful")
                   .Help("Whether the last configuration reload attempt was successful")
                   .Register(registry)
                   .Add({});
  reloadTime_ = &prometheus::BuildGauge()
                     .Name("envprobe_config_last_reload_success_timestamp_seconds")
                     .Help("Timestamp of the last successful configuration load")
                     .Register(registry)
                     .Add({});
  historyDropped_ = &prometheus::BuildCounter()
                        .Name("envprobe_history_dropped_writes_total")
                        .Help("History writes dropped because the store's queue was full")
                        .Register(registry)
                        .Add({});
  reloadOk_->Set(1);
  reloadTime_->Set(wallSeconds());
  deployments_ = std::make_unique<Deployments>(wallMs);
  readers_ = std::make_shared<ReadGate>();
  agent_->setAmender(deployments_.get());
  refreshApiState();
  heartbeat();
}

AgentRuntime::~AgentRuntime() {
  heartbeatTimer_.reset();
  if (alerts_) agent_->removeSink(*alerts_);
  if (historySink_) agent_->removeSink(*historySink_);
  if (changeTracker_) agent_->removeSink(*changeTracker_);
  agent_->setAmender(nullptr);
  historySink_.reset();
  changeTracker_.reset();
  history_.reset();
  alerts_.reset();
  alertmanagers_.reset();
  agent_.reset();
}

void AgentRuntime::setListen(std::string listen, bool fromConfig) {
  listen_ = std::move(listen);
  listenFromConfig_ = fromConfig;
}

void AgentRuntime::heartbeat() {
  lastBeatNs_.store(steadyNs());
  {
    std::set<std::string> firing;
    if (alerts_) firing = alerts_->firingKeys();
    std::lock_guard lock(apiMutex_);
    firing_ = std::move(firing);
  }
  if (history_) {
    const std::uint64_t dropped = history_->dropped();
    if (dropped > historyDroppedSeen_)
      historyDropped_->Increment(static_cast<double>(dropped - historyDroppedSeen_));
    historyDroppedSeen_ = dropped;
  }
  heartbeatTimer_.arm(loop_.now() + kHeartbeat, [this] { heartbeat(); });
}

bool AgentRuntime::healthy() const {
  return steadyNs() - lastBeatNs_.load() <=
         std::chrono::duration_cast<std::chrono::nanoseconds>(kHealthBound).count();
}

void AgentRuntime::configureAlerting() {
  const auto& settings = config_->alerting;
  if (settings.alertmanagers.empty()) {
    if (!alerts_) return;
    // Alerting was turned off: what fires now is no longer re-sent; Alertmanager lets each
    // alert expire at its endsAt.
    logWarn("alerting turned off by the reload; firing alerts expire in Alertmanager");
    agent_->removeSink(*alerts_);
    alerts_.reset();
    alertmanagers_.reset();
    return;
  }
  if (!alerts_) {
    alertmanagers_ = std::make_unique<AlertmanagerClient>(loop_, agent_->curl(),
                                                          settings.alertmanagers,
                                                          settings.queueCapacity,
                                                          *agent_->registry());
    alerts_ = std::make_unique<AlertRouter>(config_, loop_, *alertmanagers_, *agent_->registry());
    agent_->addSink(*alerts_);
    return;
  }
  alertmanagers_->reconfigure(settings.alertmanagers, settings.queueCapacity);
  alerts_->reconfigure(config_);
}

void AgentRuntime::enableHistory(HistoryOptions options) {
  const Duration retention = options.retention;
  auto store = std::make_unique<HistoryStore>(std::move(options));
  if (!store->enabled()) return;
  {
    std::lock_guard lock(apiMutex_);
    retention_ = retention;
  }
  const auto last = store->loadLastStates();
  std::map<std::string, std::int64_t> downSince;
  for (const auto& [series, state] : last)
    if (!state.up) downSince[series] = state.sinceUnixMs / 1000;
  agent_->probeMetrics()->seedDownSince(downSince);
  logInfo("history: kept", {{"file", store->file()},
                            {"series", last.size()},
                            {"down", downSince.size()}});
  deployments_->restore([&] {
    std::vector<ExpectedVersion> restored;
    for (const auto& a : store->loadAnnouncements())
      restored.push_back({a.service, a.version, a.announcedUnixMs, a.convergeWithinMs});
    return restored;
  }());
  {
    ChangeQuery recent;
    recent.limit = 100000;
    std::map<std::string, std::vector<SeriesChange>> changes;
    auto found = store->queryChanges(recent);  // newest first
    for (auto it = found.rbegin(); it != found.rend(); ++it)
      changes[it->series].push_back({it->what, it->oldValue, it->newValue, it->unixMs});
    agent_->probeMetrics()->seedChanges(std::move(changes));
  }
  auto facts = store->loadFacts();
  history_ = std::move(store);
  historySink_ = std::make_unique<HistorySink>(*history_, last);
  agent_->addSink(*historySink_);
  HistoryStore* kept = history_.get();
  ChangeTracker::Store keep;
  keep.fact = [kept](const std::string& series, const std::string& what,
                     const std::string& value, std::int64_t unixMs) {
    kept->recordFact(series, what, value, unixMs);
  };
  keep.change = [kept](const RecordedChange& c) {
    const Target& t = *c.target;
    kept->recordChange({c.series, t.id, t.env, t.service, t.hostname, toString(t.visibility),
                        t.check, c.address, c.what, c.oldValue, c.newValue, c.unixMs});
  };
  changeTracker_ =
      std::make_unique<ChangeTracker>(*agent_->probeMetrics(), std::move(keep), std::move(facts));
  agent_->addSink(*changeTracker_);
}

void AgentRuntime::refreshApiState() {
  std::map<std::string, bool> versioned;
  for (const auto& service : config_->catalog.services) {
    bool any = false;
    for (const auto& check : service.checks)
      any = any || (check.http && check.http->version.kind != ValueSource::Kind::None);
    versioned[service.name] = any;
  }
  std::lock_guard lock(apiMutex_);
  apiToken_ = config_->api.token;
  serviceVersioned_ = std::move(versioned);
  maintenance_ = config_->maintenance;
  targets_ = agent_->targets();
}

std::optional<StatusPageModel> AgentRuntime::statusModel(const StatusFilter& filter) {
  const auto ticket = readers_->enter();
  if (!ticket) return std::nullopt;
  StatusSources sources;
  sources.env = env_;
  sources.nowMs = wallMs();
  sources.series = agent_->probeMetrics()->snapshot();
  sources.history = history();
  sources.deployments = deployments_.get();
  sources.filter = filter;
  {
    std::lock_guard lock(apiMutex_);
    sources.firing = firing_;
    sources.maintenance = maintenance_;
  }
  return buildStatusModel(std::move(sources));
}

std::optional<std::string> AgentRuntime::refuseService(const std::string& service) const {
  std::lock_guard lock(apiMutex_);
  const auto it = serviceVersioned_.find(service);
  if (it == serviceVersioned_.end())
    return "no service \"" + service.substr(0, 128) + "\" in the agent's catalog";
  if (!it->second)
    return "no check of service \"" + service +
           "\" says where its version is (version: { json | header | regex })";
  return std::nullopt;
}

ControlApiContext AgentRuntime::controlApi() {
  ControlApiContext ctx;
  ctx.metrics = agent_->probeMetrics();
  ctx.deployments = deployments_.get();
  ctx.history = history();
  ctx.token = [this] {
    std::lock_guard lock(apiMutex_);
    return apiToken_;
  };
  ctx.refuseService = [this](const std::string& service) { return refuseService(service); };
  ctx.nowMs = wallMs;
  ctx.targets = [this] {
    std::lock_guard lock(apiMutex_);
    return targets_;
  };
  ctx.retention = [this] {
    std::lock_guard lock(apiMutex_);
    return retention_;
  };
  ctx.readers = readers_;
  return ctx;
}

void AgentRuntime::start() {
  if (!changeTracker_) {  // without a history: changes are logged and exported, not kept
    changeTracker_ = std::make_unique<ChangeTracker>(*agent_->probeMetrics(),
                                                     ChangeTracker::Store{},
                                                     std::map<std::string, std::map<std::string, std::string>>{});
    agent_->addSink(*changeTracker_);
  }
  if (config_->alerting.externalUrl.empty()) config_->alerting.externalUrl = defaultExternalUrl_;
  configureAlerting();
  agent_->start();
}

void AgentRuntime::stop(Duration bound) {
  heartbeatTimer_.reset();
  agent_->stop();
  flushAlerts(bound);
}

void AgentRuntime::closeHistory() {
  if (history_) history_->close();
}

void AgentRuntime::flushAlerts(Duration bound) {
  if (!alerts_ || alerts_->undelivered() == 0) return;
  const auto until = loop_.now() + bound;
  std::function<void()> poll;
  poll = [&] {
    if (alerts_->undelivered() == 0 || loop_.now() >= until) {
      loop_.stop();
      return;
    }
    loop_.addTimer(loop_.now() + std::chrono::milliseconds(50), poll);
  };
  loop_.addTimer(loop_.now() + std::chrono::milliseconds(50), poll);
  loop_.run();
  if (alerts_->undelivered() > 0)
    logWarn("stopping with undelivered alerts",
            {{"alerts", alerts_->undelivered()}});
}

ReloadOutcome AgentRuntime::apply(ReloadCandidate& candidate, ReloadTrigger trigger) {
  const std::string how = toString(trigger);
  auto fail = [&](std::string errors) {
    reloadOk_->Set(0);
    logError("config reload failed; the running config stays",
             {{"trigger", how}, {"file", config_->file}});
    return ReloadOutcome{false, false, std::move(errors)};
  };
  logDiagnostics(candidate.diagnostics);
  if (!candidate.config) return fail(describe(candidate.diagnostics));
  AgentConfig& next = *candidate.config;
  if (next.environment != config_->environment) {
    const std::string error = next.file + ": error: environment: \"" + next.environment +
                              "\" differs from the running agent's \"" +
                              config_->environment +
                              "\"; an agent's environment changes only with a restart";
    logError("config reload: error", {{"file", next.file}, {"err", error}});
    return fail(error + "\n");
  }
  if (next.alerting.externalUrl.empty()) next.alerting.externalUrl = defaultExternalUrl_;
  std::shared_ptr<AgentConfig> config = std::move(candidate.config);
  const auto started = std::chrono::steady_clock::now();
  TargetDiff diff;
  try {
    diff = agent_->reconfigure(*config, candidate.targets);
  } catch (const std::exception& e) {
    logError("config reload: error", {{"file", config->file}, {"err", e.what()}});
    return fail(std::string(config->file) + ": error: " + e.what() + "\n");
  }
  if (!(config->metrics == config_->metrics))
    logWarn("metrics options changed in the config; they take effect on restart");
  candidate.retired = std::exchange(config_, config);
  configureAlerting();
  refreshApiState();
  if (listenFromConfig_ && !config_->listen.empty() && config_->listen != listen_)
    logWarn("listen address changed in the config; it takes effect on restart",
            {{"listening", listen_}, {"configured", config_->listen}});
  const double applySeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  reloadOk_->Set(1);
  reloadTime_->Set(wallSeconds());
  const std::size_t targets = diff.added.size() + diff.changed.size() + diff.unchanged.size();
  logInfo("config reloaded", {{"trigger", how},
                              {"targets", targets},
                              {"added", diff.added.size()},
                              {"removed", diff.removed.size()},
                              {"changed", diff.changed.size()},
                              {"unchanged", diff.unchanged.size()},
                              {"load_seconds", candidate.loadSeconds},
                              {"apply_seconds", applySeconds}});
  std::ostringstream summary;
  summary << "config reloaded: " << targets << " targets (" << diff.added.size() << " added, "
          << diff.removed.size() << " removed, " << diff.changed.size() << " changed, "
          << diff.unchanged.size() << " unchanged)\n";
  return ReloadOutcome{true, false, summary.str()};
}

}  // namespace envprobe
