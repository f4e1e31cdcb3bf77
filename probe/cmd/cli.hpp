#pragma once
// Command line in Prometheus style: `envprobe [flags] <command> [args]`, flags as --name=value or
// --name value.
#include <string>
#include <vector>

namespace envprobe {

struct CommandLine {
  std::string command;  // check-config | run | once | demo | help | version
  std::vector<std::string> args;
  std::string configFile;
  std::string listenAddress;  // empty: the config's `listen`, else ":9470"
  std::string webConfigFile;  // TLS and basic auth for the endpoint (exporter-toolkit format)
  std::string logLevel = "info";
  std::string logFormat = "logfmt";
  std::string format = "table";  // once: table | json
  bool listTargets = false;      // check-config: also print every target
  std::string demoDuration;      // demo: stop after this long (default: until interrupted)
  std::vector<std::string> errors;
};

CommandLine parseCommandLine(int argc, const char* const* argv);
std::string usageText();

}  // namespace envprobe
