#include "probe/cmd/cli.hpp"

#include <algorithm>
#include <map>

#include "probe/base/duration.hpp"

namespace envprobe {

namespace {

bool knownCommand(const std::string& name) {
  const auto& names = commandNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string unknownCommand(const std::string& name) {
  std::string list;
  for (const auto& n : commandNames()) list += (list.empty() ? "" : ", ") + n;
  return "unknown command \"" + name + "\" (commands: " + list + ")";
}

// Empty or "0": off. Anything else must be a duration as the config writes them.
void parseAutoReloadInterval(CommandLine& cl) {
  const std::string& text = cl.autoReloadInterval;
  if (text.empty() || text == "0") {
    cl.autoReloadIntervalValue = Duration(0);
    return;
  }
  if (auto d = parseDuration(text)) {
    cl.autoReloadIntervalValue = *d;
    return;
  }
  cl.errors.push_back("--config.auto-reload-interval \"" + text +
                      "\": not a duration; write it like 30s, 5m or 1h30m (units ms, s, m, h, "
                      "d; at most a year), or 0 to turn it off");
}

void parseStorageFlags(CommandLine& cl) {
  if (cl.storagePath.empty()) cl.errors.push_back("--storage.path must not be empty");
  const auto d = parseDuration(cl.storageRetention);
  if (d && d->count() > 0) {
    cl.storageRetentionValue = *d;
    return;
  }
  cl.errors.push_back("--storage.retention \"" + cl.storageRetention +
                      "\": not a positive duration; write it like 14d, 36h or 90m");
}

}  // namespace

const std::vector<std::string>& commandNames() {
  static const std::vector<std::string> names = {"run",  "once",    "check-config",
                                                 "demo", "version", "help"};
  return names;
}

CommandLine parseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  std::map<std::string, std::string*> valued = {
      {"config.file", &cl.configFile},   {"web.listen-address", &cl.listenAddress},
      {"web.config.file", &cl.webConfigFile},
      {"log.level", &cl.logLevel},       {"log.format", &cl.logFormat},
      {"format", &cl.format},            {"demo.duration", &cl.demoDuration},
      {"config.auto-reload-interval", &cl.autoReloadInterval},
      {"storage.path", &cl.storagePath},  {"storage.retention", &cl.storageRetention},
  };
  bool helpFlag = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      helpFlag = true;
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
  // `COMMAND --help` is `help COMMAND`; `--help` alone (or `help --help`) is help's own.
  if (helpFlag) {
    if (cl.command.empty()) {
      cl.command = "help";
    } else {
      cl.args = {cl.command};
      cl.command = "help";
    }
  }
  if (!cl.command.empty() && !knownCommand(cl.command))
    cl.errors.push_back(unknownCommand(cl.command));
  if (cl.command == "help") {
    if (cl.args.size() > 1)
      cl.errors.push_back("help takes one command, got " + std::to_string(cl.args.size()));
    else if (cl.args.size() == 1 && !knownCommand(cl.args.front()))
      cl.errors.push_back(unknownCommand(cl.args.front()));
  }
  if (cl.logLevel != "debug" && cl.logLevel != "info" && cl.logLevel != "warn" &&
      cl.logLevel != "error")
    cl.errors.push_back("--log.level must be debug, info, warn or error, got \"" + cl.logLevel +
                        "\"");
  if (cl.logFormat != "logfmt" && cl.logFormat != "json")
    cl.errors.push_back("--log.format must be logfmt or json, got \"" + cl.logFormat + "\"");
  if (cl.format != "table" && cl.format != "json")
    cl.errors.push_back("--format must be table or json, got \"" + cl.format + "\"");
  parseAutoReloadInterval(cl);
  parseStorageFlags(cl);
  if (cl.command == "check-config" && cl.configFile.empty() && !cl.args.empty()) {
    cl.configFile = cl.args.front();
    cl.args.erase(cl.args.begin());
  }
  return cl;
}

}  // namespace envprobe
