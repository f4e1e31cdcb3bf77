#pragma once
// Command line in Prometheus style: `envprobe [flags] <command> [args]`, flags as --name=value or
// --name value. Exit code 2 is a usage error for every command (unknown command or flag, a flag
// without or with a bad value), as in Prometheus' own tools.
#include <optional>
#include <string>
#include <vector>

#include "probe/base/core_types.hpp"

namespace envprobe {

struct CommandLine {
  std::string command;  // check-config | run | once | demo | help | version
  // Positionals after the command. For `help` (also `COMMAND --help`): the command to describe.
  std::vector<std::string> args;
  std::string configFile;
  std::string listenAddress;  // empty: the config's `listen`, else ":9470"
  std::string webConfigFile;  // TLS and basic auth for the endpoint (exporter-toolkit format)
  std::string logLevel = "info";
  std::string logFormat = "logfmt";
  std::string format = "table";  // once: table | json
  bool listTargets = false;      // check-config: also print every target
  std::string demoDuration;      // demo: stop after this long (default: until interrupted)
  // run: how often to look for changed config files (agent file, includes, secret files) and
  // reload when their content changed. Raw text as given; empty (or "0") = off.
  std::string autoReloadInterval;
  Duration autoReloadIntervalValue{0};  // parsed autoReloadInterval; 0 = off
  // run: the history store's directory and how long it keeps transitions.
  std::string storagePath = "./data";
  std::string storageRetention = "14d";
  Duration storageRetentionValue = std::chrono::hours(24 * 14);
  std::vector<std::string> errors;
};

CommandLine parseCommandLine(int argc, const char* const* argv);

// The overview: every command, the global flags, a pointer at `envprobe COMMAND --help`.
std::string usageText();
// One command's usage, flags with their defaults and exit codes; nullopt for an unknown command.
std::optional<std::string> commandUsageText(const std::string& command);
// The commands in the order the overview lists them.
const std::vector<std::string>& commandNames();

}  // namespace envprobe
