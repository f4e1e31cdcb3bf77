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
  std::string command;  // check-config | run | once | demo | deploy | gate | help | version
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
  // deploy, gate: clients of an agent's control API. Text as given; parseCommandLine checks
  // it (required flags, URL scheme, durations) and fills the parsed values.
  struct Control {
    std::string agent;                // the agent's base URL, http:// or https://
    std::string tokenFile;            // the bearer token's file; deploy: required
    std::string caFile;               // a private CA for https (default: the system's CAs)
    std::string service;              // deploy: required; gate: optional filter
    std::string version;              // deploy: the version announced
    std::string convergeWithin;       // deploy: optional, a duration
    std::string wait;                 // deploy: empty = announce only
    std::string pollInterval = "2s";  // deploy --wait
    std::string window;               // gate --for
    std::string visibility;           // gate: public | internal | empty (both)
    bool allowPartial = false;        // gate --allow-partial
    Duration waitValue{0};            // parsed wait
    Duration pollIntervalValue = std::chrono::seconds(2);
  } control;
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
