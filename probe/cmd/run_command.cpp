#include <iostream>

#include <malloc.h>
#include <unistd.h>

#include "probe/engine/agent.hpp"
#include "probe/alerting/delivery/alert_router.hpp"
#include "probe/alerting/delivery/alertmanager_client.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/diagnostics_output.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "probe/catalog/coverage_audit.hpp"
#include "probe/web/http_server.hpp"
#include "probe/web/web_config.hpp"
#include "probe/config/address_rules.hpp"
#include "probe/metrics/internal_errors_metric.hpp"
#include "probe/base/logging.hpp"
#include "probe/io/signal_watcher.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

std::optional<AgentConfig> loadAgentConfig(const std::string& file, std::ostream& err) {
  if (file.empty()) {
    err << "envprobe: error: give the agent config with --config.file=FILE\n";
    return std::nullopt;
  }
  LoadResult loaded = loadConfig(file);
  Diagnostics all = loaded.diagnostics;
  all.append(auditCoverage(loaded.config).diagnostics);
  printDiagnostics(all, err);
  if (all.hasErrors()) return std::nullopt;
  // The YAML trees are gone; hand their memory back instead of keeping it as the agent's RSS.
  malloc_trim(0);
  if (loaded.config.environment.empty()) {
    err << file << ": error: environment: missing; an agent file names its environment\n";
    return std::nullopt;
  }
  return std::move(loaded.config);
}

namespace {

std::string hostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  return name;
}

}  // namespace

namespace {

// The shutdown sequence's flush step: how long undelivered alerts may hold up the exit.
constexpr auto kAlertFlushBound = std::chrono::seconds(3);

// Runs the loop until the router has delivered everything or the bound passes.
void flushAlerts(EventLoop& loop, const AlertRouter& alerts) {
  if (alerts.undelivered() == 0) return;
  const auto until = loop.now() + kAlertFlushBound;
  std::function<void()> poll;
  poll = [&] {
    if (alerts.undelivered() == 0 || loop.now() >= until) {
      loop.stop();
      return;
    }
    loop.addTimer(loop.now() + std::chrono::milliseconds(50), poll);
  };
  loop.addTimer(loop.now() + std::chrono::milliseconds(50), poll);
  loop.run();
  if (alerts.undelivered() > 0)
    logWarn("stopping with undelivered alerts",
            {{"alerts", std::to_string(alerts.undelivered())}});
}

}  // namespace

int serveAgent(AgentConfig config, const std::string& listen, Duration stopAfter,
               const std::function<void(int, Agent&, EventLoop&)>& onStarted,
               const HttpServerOptions& web) {
  EventLoop loop;
  SignalWatcher signals(loop, [&loop](int signal) {
    logInfo("stopping", {{"signal", std::to_string(signal)}});
    loop.stop();
  });
  std::unique_ptr<Agent> agent;
  std::unique_ptr<HttpServer> server;
  try {
    agent = std::make_unique<Agent>(config, loop);
    server = std::make_unique<HttpServer>(
        listen, std::vector<std::shared_ptr<prometheus::Collectable>>{
                    agent->registry(), agent->probeMetrics(),
                    std::make_shared<InternalErrorsMetric>()},
        web);
  } catch (const std::exception& e) {
    logError("cannot start", {{"err", e.what()}});
    return 1;
  }
  auto metrics = agent->probeMetrics();
  const std::string env = config.environment;
  server->handle("/", [metrics, env](const HttpServer::Request& request) {
    if (request.path != "/") return HttpResponse{404, "text/plain", "not found\n"};
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return HttpResponse{200, "text/html; charset=utf-8",
                        renderStatusPage(env, metrics->snapshot(), now)};
  });
  server->handle("/api/v1/targets", [metrics](const HttpServer::Request&) {
    return HttpResponse{200, "application/json", renderTargetsJson(metrics->snapshot())};
  });
  logInfo("starting envprobe", {{"version", ENVPROBE_VERSION},
                                {"env", config.environment},
                                {"targets", std::to_string(agent->targetCount())},
                                {"listen", listen},
                                {"port", std::to_string(server->port())}});
  std::unique_ptr<AlertmanagerClient> alertmanagers;
  std::unique_ptr<AlertRouter> alerts;
  if (!config.alerting.alertmanagers.empty()) {
    // generatorURL of the alerts: the status page, unless configured.
    if (config.alerting.externalUrl.empty())
      config.alerting.externalUrl = "http://" + hostName() + ":" + std::to_string(server->port());
    alertmanagers = std::make_unique<AlertmanagerClient>(
        loop, agent->curl(), config.alerting.alertmanagers, config.alerting.queueCapacity,
        *agent->registry());
    alerts = std::make_unique<AlertRouter>(config, loop, *alertmanagers, *agent->registry());
    agent->addSink(*alerts);
  }
  agent->start();
  if (stopAfter.count() > 0) loop.addTimer(loop.now() + stopAfter, [&loop] { loop.stop(); });
  if (onStarted) onStarted(server->port(), *agent, loop);
  loop.run();

  // Shutdown, in order: stop probing (runs in flight cancelled, so nothing new reaches the
  // alerts), deliver what the alerts still owe within a bound, stop serving, then destroy.
  agent->stop();
  if (alerts) flushAlerts(loop, *alerts);
  server.reset();
  alerts.reset();
  alertmanagers.reset();
  agent.reset();
  logInfo("stopped");
  return 0;
}

int runAgentCommand(const CommandLine& cl) {
  auto config = loadAgentConfig(cl.configFile, std::cerr);
  if (!config) return 1;
  const std::string listen = !cl.listenAddress.empty() ? cl.listenAddress
                             : !config->listen.empty() ? config->listen
                                                       : ":9470";
  if (auto error = listenAddressError(listen)) {
    std::cerr << "envprobe: error: --web.listen-address \"" << listen << "\": " << *error << "\n";
    return 1;
  }
  HttpServerOptions web;
  if (!cl.webConfigFile.empty()) {
    try {
      web.web = loadWebConfig(cl.webConfigFile);
    } catch (const WebConfigError& e) {
      std::cerr << "envprobe: error: " << e.what() << "\n";
      return 1;
    }
  }
  if (web.web.empty() && listensOnAllInterfaces(listen))
    logWarn("serving /metrics, the status page and the API on all interfaces without "
            "authentication; restrict --web.listen-address or add --web.config.file",
            {{"listen", listen}});
  return serveAgent(*config, listen, Duration(0), nullptr, web);
}

}  // namespace envprobe
