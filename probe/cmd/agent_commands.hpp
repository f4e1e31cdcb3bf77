#pragma once
// The commands that probe: `run` (the daemon), `once` (for deploy pipelines) and `demo`; and
// the clients of a running agent's control API: `deploy` and `gate`.
#include <functional>
#include <optional>
#include <ostream>

#include "probe/cmd/cli.hpp"
#include "probe/config/config_model.hpp"
#include "probe/history/history_store.hpp"
#include "probe/web/http_server.hpp"

namespace envprobe {

// Loads and audits an agent file: the config, or nullopt and why in `diagnostics`.
struct AgentFile {
  std::optional<AgentConfig> config;
  Diagnostics diagnostics;  // every error and warning
};
AgentFile loadAgentFile(const std::string& file);

// Loads and audits an agent file; prints every diagnostic to `err`. nullopt when unusable.
std::optional<AgentConfig> loadAgentConfig(const std::string& file, std::ostream& err);

int runAgentCommand(const CommandLine& cl);
int runOnceCommand(const CommandLine& cl, std::ostream& out, std::ostream& err);
int runDemoCommand(const CommandLine& cl, std::ostream& out);
int runDeployCommand(const CommandLine& cl, std::ostream& out, std::ostream& err);
int runGateCommand(const CommandLine& cl, std::ostream& out, std::ostream& err);

struct ServeOptions {
  std::string listen;
  bool listenFromConfig = false;  // the config's `listen` (a reload may change it: restart)
  Duration stopAfter{0};          // 0: until SIGTERM/SIGINT
  HttpServerOptions web;          // auth and limits of the endpoint
  bool reloadable = false;        // SIGHUP and POST /-/reload re-read config.file
  Duration autoReloadInterval{0};  // > 0: reload when the config files change
  std::optional<HistoryOptions> history;  // run: the history store; demo: none
  // Gets the bound HTTP port once serving.
  std::function<void(int port, class Agent&, class EventLoop&)> onStarted;
};

// Runs the daemon on a loaded config until SIGTERM/SIGINT or options.stopAfter.
int serveAgent(AgentConfig config, const ServeOptions& options);

}  // namespace envprobe
