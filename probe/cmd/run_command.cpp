#include <atomic>
#include <csignal>
#include <future>
#include <iostream>

#include <malloc.h>
#include <unistd.h>

#include "probe/engine/agent.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/agent_runtime.hpp"
#include "probe/cmd/config_reloader.hpp"
#include "probe/cmd/diagnostics_output.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "probe/catalog/coverage_audit.hpp"
#include "probe/web/http_server.hpp"
#include "probe/web/web_config.hpp"
#include "probe/config/address_rules.hpp"
#include "probe/metrics/internal_errors_metric.hpp"
#include "probe/metrics/process_metrics.hpp"
#include "probe/base/logging.hpp"
#include "probe/io/signal_watcher.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

AgentFile loadAgentFile(const std::string& file) {
  AgentFile out;
  LoadResult loaded = loadConfig(file);
  out.diagnostics = loaded.diagnostics;
  out.diagnostics.append(auditCoverage(loaded.config).diagnostics);
  if (out.diagnostics.hasErrors()) return out;
  if (loaded.config.environment.empty()) {
    out.diagnostics.error(SourceLocation{file, 0, 0}, "environment",
                          "missing; an agent file names its environment");
    return out;
  }
  out.config = std::move(loaded.config);
  return out;
}

std::optional<AgentConfig> loadAgentConfig(const std::string& file, std::ostream& err) {
  if (file.empty()) {
    err << "envprobe: error: give the agent config with --config.file=FILE\n";
    return std::nullopt;
  }
  AgentFile loaded = loadAgentFile(file);
  printDiagnostics(loaded.diagnostics, err);
  // The YAML trees are gone; hand their memory back instead of keeping it as the agent's RSS.
  malloc_trim(0);
  return std::move(loaded.config);
}

namespace {

std::string hostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  return name;
}

// The shutdown sequence's flush step: how long undelivered alerts may hold up the exit.
constexpr auto kAlertFlushBound = std::chrono::seconds(3);
// How long POST /-/reload waits for its answer (a 100k-target catalog loads in about 10 s).
constexpr auto kReloadAnswerBound = std::chrono::minutes(5);
// POST /-/reload requests waiting at once; more are answered 503 at once, so reload requests
// can never hold the threads /metrics and /-/healthy need.
constexpr int kMaxReloadWaiters = 4;

// The state POST /-/reload shares between HTTP threads and the shutdown sequence.
struct ReloadGate {
  std::atomic<bool> stopping{false};
  std::atomic<int> waiting{0};
};

// POST /-/reload, answered on an HTTP thread: the reload runs on the loop and its worker; this
// thread waits for the outcome, giving up when the agent stops.
HttpResponse reloadOverHttp(EventLoop& loop, ConfigReloader& reloader, ReloadGate& gate) {
  if (gate.waiting.fetch_add(1) >= kMaxReloadWaiters) {
    gate.waiting.fetch_sub(1);
    return {503, "text/plain; charset=utf-8", "too many reload requests waiting; retry\n"};
  }
  struct Leave {
    ReloadGate& gate;
    ~Leave() { gate.waiting.fetch_sub(1); }
  } leave{gate};
  auto promise = std::make_shared<std::promise<ReloadOutcome>>();
  auto answer = promise->get_future();
  loop.post([&reloader, promise] {
    reloader.request(ReloadTrigger::Api,
                     [promise](const ReloadOutcome& outcome) { promise->set_value(outcome); });
  });
  const auto until = std::chrono::steady_clock::now() + kReloadAnswerBound;
  while (answer.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (gate.stopping.load() || std::chrono::steady_clock::now() > until)
      return {503, "text/plain; charset=utf-8", "the agent is shutting down or busy; retry\n"};
  }
  const ReloadOutcome outcome = answer.get();
  return {outcome.ok ? 200 : 500, "text/plain; charset=utf-8", outcome.message};
}

void addRoutes(HttpServer& server, AgentRuntime& runtime) {
  auto metrics = runtime.agent().probeMetrics();
  const std::string env = runtime.config().environment;
  server.handle("/", [&runtime](const HttpServer::Request& request) {
    const auto model = runtime.statusModel(parseStatusFilter(request.query));
    if (!model)
      return HttpResponse{503, "text/plain; charset=utf-8",
                          "too many status page and history requests at once; retry\n"};
    return HttpResponse{200, "text/html; charset=utf-8", renderStatusPage(*model)};
  });
  server.handle("/api/v1/targets", [metrics](const HttpServer::Request&) {
    return HttpResponse{200, "application/json", renderTargetsJson(metrics->snapshot())};
  });
  Agent& agent = runtime.agent();
  server.handle("/-/ready", [&agent](const HttpServer::Request&) {
    if (agent.ready()) return HttpResponse{200, "text/plain; charset=utf-8", "Ready.\n"};
    return HttpResponse{503, "text/plain; charset=utf-8",
                        "Not ready: the targets are not loaded and scheduled yet.\n"};
  });
  server.handle("/-/healthy", [&runtime](const HttpServer::Request&) {
    if (runtime.healthy()) return HttpResponse{200, "text/plain; charset=utf-8", "Healthy.\n"};
    return HttpResponse{503, "text/plain; charset=utf-8",
                        "Unhealthy: the event loop has not answered for more than 5s.\n"};
  });
}

}  // namespace

int serveAgent(AgentConfig config, const ServeOptions& options) {
  EventLoop loop;
  std::unique_ptr<AgentRuntime> runtime;
  std::unique_ptr<ConfigReloader> reloader;
  SignalWatcher signals(loop, [&](int signal) {
    if (signal == SIGHUP) {
      if (!reloader) {
        logWarn("SIGHUP ignored: this agent's config cannot be reloaded");
        return;
      }
      logInfo("reloading the config", {{"trigger", "SIGHUP"}});
      reloader->request(ReloadTrigger::Signal);
      return;
    }
    logInfo("stopping", {{"signal", signal}});
    loop.stop();
  });
  std::unique_ptr<HttpServer> server;
  try {
    runtime = std::make_unique<AgentRuntime>(std::move(config), loop);
    server = std::make_unique<HttpServer>(
        options.listen,
        std::vector<std::shared_ptr<prometheus::Collectable>>{
            runtime->agent().registry(), runtime->agent().probeMetrics(),
            std::make_shared<ProcessCollector>(), std::make_shared<InternalErrorsMetric>()},
        options.web);
  } catch (const std::exception& e) {
    logError("cannot start", {{"err", e.what()}});
    return 1;
  }
  if (options.history) runtime->enableHistory(*options.history);
  addRoutes(*server, *runtime);
  addControlRoutes(*server, runtime->controlApi());
  auto gate = std::make_shared<ReloadGate>();
  if (options.reloadable) {
    reloader = std::make_unique<ConfigReloader>(
        loop, runtime->config(), [&runtime](ReloadCandidate& candidate, ReloadTrigger trigger) {
          return runtime->apply(candidate, trigger);
        });
    server->handlePost("/-/reload", [&loop, &reloader, gate](const HttpServer::Request&) {
      return reloadOverHttp(loop, *reloader, *gate);
    });
    if (options.autoReloadInterval.count() > 0) reloader->watchFiles(options.autoReloadInterval);
  }
  runtime->setListen(options.listen, options.listenFromConfig);
  runtime->setDefaultExternalUrl((options.web.web.tls ? "https://" : "http://") + hostName() +
                                 ":" + std::to_string(server->port()));
  logInfo("starting envprobe", {{"version", ENVPROBE_VERSION},
                                {"env", runtime->config().environment},
                                {"targets", runtime->agent().targetCount()},
                                {"listen", options.listen},
                                {"port", server->port()}});
  runtime->start();
  if (options.stopAfter.count() > 0)
    loop.addTimer(loop.now() + options.stopAfter, [&loop] { loop.stop(); });
  if (options.onStarted) options.onStarted(server->port(), runtime->agent(), loop);
  loop.run();

  // Shutdown, in order: no more reloads (whoever waits is answered), stop probing (runs in
  // flight cancelled, so nothing new reaches the alerts), deliver what the alerts still owe
  // within a bound, stop serving, commit the history's queue (within 2 s), then destroy.
  gate->stopping.store(true);
  if (reloader) reloader->stop();
  runtime->stop(kAlertFlushBound);
  server.reset();
  runtime->closeHistory();
  reloader.reset();
  runtime.reset();
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
  ServeOptions options;
  options.listen = listen;
  options.listenFromConfig = cl.listenAddress.empty() && !config->listen.empty();
  options.web = web;
  options.reloadable = true;
  options.autoReloadInterval = cl.autoReloadIntervalValue;
  options.history.emplace();
  options.history->path = cl.storagePath;
  options.history->retention = cl.storageRetentionValue;
  return serveAgent(std::move(*config), options);
}

}  // namespace envprobe
