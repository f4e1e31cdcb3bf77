#include "probe/cmd/cli.hpp"

#include <map>

namespace envprobe {

std::string usageText() {
  return R"(usage: envprobe [<flags>] <command> [<args>]

Synthetic probes for every hostname of every service, per environment.

Commands:
  check-config FILE    Validate a config and its catalog; print the coverage matrix.
                       --list-targets also prints every target the agent would probe.
  run                  Run the agent: probe on schedule, serve /metrics and the status page.
  once                 Probe every target once, print one row per target, exit 1 if any failed.
                       --format=table|json
  demo                 Start a built-in site on loopback and probe it (no network needed).
                       --demo.duration=20s stops it after that long.
  help                 Show this help.  version  Show the version.

Flags:
  -h, --help                 Show this help.
      --version              Show the version.
      --config.file=FILE     The agent config file (e.g. config/at.yaml).
      --web.listen-address=ADDR
                             Address for /metrics and the status page (default ":9470").
      --web.config.file=FILE Basic auth for the endpoint, in Prometheus' web config format
                             (basic_auth_users: {user: bcrypt hash}).
      --log.level=LEVEL      debug | info | warn | error (default info).
      --log.format=FORMAT    logfmt | json (default logfmt).
)";
}

CommandLine parseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  std::map<std::string, std::string*> valued = {
      {"config.file", &cl.configFile},   {"web.listen-address", &cl.listenAddress},
      {"web.config.file", &cl.webConfigFile},
      {"log.level", &cl.logLevel},       {"log.format", &cl.logFormat},
      {"format", &cl.format},            {"demo.duration", &cl.demoDuration},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      cl.command = "help";
      continue;
    }
    if (arg == "--version") {
      cl.command = "version";
      continue;
    }
    if (arg == "--list-targets") {
      cl.listTargets = true;
      continue;
    }
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2), value;
      const auto eq = name.find('=');
      bool hasValue = eq != std::string::npos;
      if (hasValue) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      auto it = valued.find(name);
      if (it == valued.end()) {
        cl.errors.push_back("unknown flag --" + name);
        continue;
      }
      if (!hasValue) {
        if (i + 1 >= argc) {
          cl.errors.push_back("flag --" + name + " needs a value");
          continue;
        }
        value = argv[++i];
      }
      *it->second = value;
      continue;
    }
    if (cl.command.empty()) cl.command = arg;
    else cl.args.push_back(arg);
  }
  if (cl.logLevel != "debug" && cl.logLevel != "info" && cl.logLevel != "warn" &&
      cl.logLevel != "error")
    cl.errors.push_back("--log.level must be debug, info, warn or error, got \"" + cl.logLevel +
                        "\"");
  if (cl.logFormat != "logfmt" && cl.logFormat != "json")
    cl.errors.push_back("--log.format must be logfmt or json, got \"" + cl.logFormat + "\"");
  if (cl.format != "table" && cl.format != "json")
    cl.errors.push_back("--format must be table or json, got \"" + cl.format + "\"");
  if (cl.command == "check-config" && cl.configFile.empty() && !cl.args.empty()) {
    cl.configFile = cl.args.front();
    cl.args.erase(cl.args.begin());
  }
  return cl;
}

}  // namespace envprobe
