#pragma once
// The commands that probe: `run` (the daemon), `once` (for deploy pipelines) and `demo`.
#include <functional>
#include <optional>
#include <ostream>

#include "probe/cmd/cli.hpp"
#include "probe/config/config_model.hpp"
#include "probe/web/http_server.hpp"

namespace envprobe {

// Loads and audits an agent file; prints every diagnostic to `err`. nullopt when unusable.
std::optional<AgentConfig> loadAgentConfig(const std::string& file, std::ostream& err);

int runAgentCommand(const CommandLine& cl);
int runOnceCommand(const CommandLine& cl, std::ostream& out, std::ostream& err);
int runDemoCommand(const CommandLine& cl, std::ostream& out);

// Runs the daemon on a loaded config until SIGTERM/SIGINT or `stopAfter` (0: no limit).
// `onStarted` gets the bound HTTP port once serving. `web`: auth and limits of the endpoint.
int serveAgent(AgentConfig config, const std::string& listen, Duration stopAfter,
               const std::function<void(int port, class Agent&, class EventLoop&)>& onStarted,
               const HttpServerOptions& web = {});

}  // namespace envprobe
