#include "probe/cmd/cli.hpp"

#include <algorithm>
#include <map>
#include <set>

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

// The flags of deploy and gate, and which of the two takes each.
const std::map<std::string, std::set<std::string>>& controlFlagCommands() {
  static const std::map<std::string, std::set<std::string>> flags = {
      {"agent", {"deploy", "gate"}},
      {"token-file", {"deploy", "gate"}},
      {"ca-file", {"deploy", "gate"}},
      {"service", {"deploy", "gate"}},
      {"version", {"deploy"}},
      {"converge-within", {"deploy"}},
      {"wait", {"deploy"}},
      {"poll-interval", {"deploy"}},
      {"for", {"gate"}},
      {"visibility", {"gate"}},
      {"allow-partial", {"gate"}},
  };
  return flags;
}

// A positive duration as the config writes them, or an error naming the flag.
std::optional<Duration> positiveDuration(CommandLine& cl, const std::string& flag,
                                         const std::string& text) {
  const auto d = parseDuration(text);
  if (d && d->count() > 0) return d;
  cl.errors.push_back("--" + flag + " \"" + text +
                      "\": not a positive duration; write it like 30s, 10m or 1h30m (units ms, "
                      "s, m, h, d; at most a year)");
  return std::nullopt;
}

void requireFlag(CommandLine& cl, const std::string& flag, const std::string& value,
                 const std::string& example) {
  if (value.empty())
    cl.errors.push_back(cl.command + " needs --" + flag + " (e.g. --" + flag + "=" + example + ")");
}

void parseControlFlags(CommandLine& cl, const std::set<std::string>& given) {
  for (const auto& flag : given) {
    const auto& commands = controlFlagCommands().at(flag);
    if (commands.count(cl.command)) continue;
    cl.errors.push_back(
        "--" + flag + " is a flag of " +
        (commands.size() == 2 ? std::string("deploy and gate") : *commands.begin()) +
        (cl.command.empty() ? std::string(" (no command given)") : ", not of " + cl.command));
  }
  if (cl.command != "deploy" && cl.command != "gate") return;
  auto& c = cl.control;
  for (const auto& a : cl.args)
    cl.errors.push_back(cl.command + " takes no argument, got \"" + a + "\"");
  requireFlag(cl, "agent", c.agent, "https://envprobe-at.example.com:9470");
  if (!c.agent.empty() && c.agent.rfind("http://", 0) != 0 && c.agent.rfind("https://", 0) != 0)
    cl.errors.push_back("--agent \"" + c.agent + "\": not an http:// or https:// URL");
  else if (c.agent == "http://" || c.agent == "https://")
    cl.errors.push_back("--agent \"" + c.agent + "\": the URL names no host");
  if (given.count("token-file") && c.tokenFile.empty())
    cl.errors.push_back("--token-file must not be empty");
  if (given.count("ca-file") && c.caFile.empty())
    cl.errors.push_back("--ca-file must not be empty");
  if (cl.command == "deploy") {
    requireFlag(cl, "token-file", c.tokenFile, "/etc/envprobe/deploy.token");
    requireFlag(cl, "service", c.service, "shop");
    requireFlag(cl, "version", c.version, "1.5.0");
    if (given.count("converge-within")) positiveDuration(cl, "converge-within", c.convergeWithin);
    if (given.count("wait")) {
      if (auto d = positiveDuration(cl, "wait", c.wait)) c.waitValue = *d;
    }
    if (auto d = positiveDuration(cl, "poll-interval", c.pollInterval)) c.pollIntervalValue = *d;
    return;
  }
  requireFlag(cl, "for", c.window, "24h");
  if (!c.window.empty()) positiveDuration(cl, "for", c.window);
  if (given.count("service") && c.service.empty())
    cl.errors.push_back("--service must not be empty");
  if (given.count("visibility") && c.visibility != "public" && c.visibility != "internal")
    cl.errors.push_back("--visibility must be public or internal, got \"" + c.visibility + "\"");
}

}  // namespace

const std::vector<std::string>& commandNames() {
  static const std::vector<std::string> names = {"run",  "once",   "check-config", "demo",
                                                 "deploy", "gate", "version", "help"};
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
      // deploy and gate
      {"agent", &cl.control.agent},       {"token-file", &cl.control.tokenFile},
      {"ca-file", &cl.control.caFile},    {"service", &cl.control.service},
      {"version", &cl.control.version},   {"converge-within", &cl.control.convergeWithin},
      {"wait", &cl.control.wait},         {"poll-interval", &cl.control.pollInterval},
      {"for", &cl.control.window},        {"visibility", &cl.control.visibility},
  };
  std::set<std::string> controlGiven;
  bool helpFlag = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      helpFlag = true;
      continue;
    }
    // After `deploy`, --version names the version deployed; elsewhere it is the command.
    if (arg == "--version" && cl.command != "deploy") {
      cl.command = "version";
      continue;
    }
    if (arg == "--list-targets") {
      cl.listTargets = true;
      continue;
    }
    if (arg == "--allow-partial") {
      cl.control.allowPartial = true;
      controlGiven.insert("allow-partial");
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
      if (controlFlagCommands().count(name)) controlGiven.insert(name);
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
  if (cl.command != "help" && (cl.command.empty() || knownCommand(cl.command)))
    parseControlFlags(cl, controlGiven);
  if (cl.command == "check-config" && cl.configFile.empty() && !cl.args.empty()) {
    cl.configFile = cl.args.front();
    cl.args.erase(cl.args.begin());
  }
  return cl;
}

}  // namespace envprobe
