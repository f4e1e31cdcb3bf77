#include "probe/cmd/cli.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/test_files.hpp"

using envprobe::CommandLine;
using envprobe::testing::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::VectorContains;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "envprobe");
  return envprobe::parseCommandLine(static_cast<int>(args.size()), args.data());
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Run {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// Runs the real binary with `args` (already shell-quoted), capturing stdout and stderr.
Run runEnvprobe(const std::string& args) {
  TempDir dir;
  const std::string out = (dir.path() / "stdout").string(), err = (dir.path() / "stderr").string();
  const std::string command = quoted(ENVPROBE_BINARY) + " " + args + " </dev/null >" +
                              quoted(out) + " 2>" + quoted(err);
  const int status = std::system(command.c_str());
  Run run;
  REQUIRE(status != -1);
  REQUIRE(WIFEXITED(status));
  run.exitCode = WEXITSTATUS(status);
  run.out = readFile(out);
  run.err = readFile(err);
  return run;
}

std::string source(const std::string& relative) {
  return std::string(ENVPROBE_SOURCE_DIR) + "/" + relative;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("cli: defaults when only a command is given", "[cli]") {
  const auto cl = parse({"run"});
  CHECK(cl.errors.empty());
  CHECK(cl.command == "run");
  CHECK(cl.args.empty());
  CHECK(cl.configFile.empty());
  CHECK(cl.listenAddress.empty());  // the config's `listen` applies
  CHECK(cl.webConfigFile.empty());  // plain HTTP, no auth
  CHECK(cl.logLevel == "info");
  CHECK(cl.logFormat == "logfmt");
  CHECK(cl.format == "table");
  CHECK_FALSE(cl.listTargets);
}

TEST_CASE("cli: --web.config.file names the endpoint's web config", "[cli]") {
  SECTION("with =") {
    const auto cl = parse({"run", "--web.config.file=/etc/envprobe/web.yml"});
    CHECK(cl.errors.empty());
    CHECK(cl.webConfigFile == "/etc/envprobe/web.yml");
  }
  SECTION("with a separate value") {
    const auto cl = parse({"--web.config.file", "web.yml", "run"});
    CHECK(cl.errors.empty());
    CHECK(cl.webConfigFile == "web.yml");
    CHECK(cl.command == "run");
    CHECK(cl.args.empty());
  }
  SECTION("without a value") {
    const auto cl = parse({"run", "--web.config.file"});
    CHECK_THAT(cl.errors, VectorContains(std::string("flag --web.config.file needs a value")));
  }
  CHECK_THAT(envprobe::usageText(), Contains("--web.config.file=FILE"));
}

TEST_CASE("cli: valued flags take --name=value and --name value", "[cli]") {
  SECTION("with =") {
    const auto cl = parse({"--config.file=config/at.yaml", "--web.listen-address=127.0.0.1:9999",
                           "run"});
    CHECK(cl.errors.empty());
    CHECK(cl.configFile == "config/at.yaml");
    CHECK(cl.listenAddress == "127.0.0.1:9999");
    CHECK(cl.command == "run");
  }
  SECTION("with a separate value") {
    const auto cl = parse({"run", "--config.file", "config/at.yaml", "--web.listen-address",
                           ":8080"});
    CHECK(cl.errors.empty());
    CHECK(cl.configFile == "config/at.yaml");
    CHECK(cl.listenAddress == ":8080");
    CHECK(cl.command == "run");
    CHECK(cl.args.empty());
  }
  SECTION("a value may contain '='") {
    const auto cl = parse({"--config.file=a=b.yaml", "run"});
    CHECK(cl.configFile == "a=b.yaml");
  }
}

TEST_CASE("cli: --log.level accepts the four levels only", "[cli]") {
  const std::string level = GENERATE(as<std::string>{}, "debug", "info", "warn", "error");
  const std::string flag = "--log.level=" + level;
  const auto cl = parse({flag.c_str(), "run"});
  CHECK(cl.errors.empty());
  CHECK(cl.logLevel == level);
  const auto bad = parse({"--log.level=verbose", "run"});
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0] == "--log.level must be debug, info, warn or error, got \"verbose\"");
}

TEST_CASE("cli: --log.format accepts logfmt and json only", "[cli]") {
  CHECK(parse({"--log.format=json", "run"}).errors.empty());
  CHECK(parse({"--log.format", "logfmt", "run"}).errors.empty());
  CHECK(parse({"--log.format=xml", "run"}).errors ==
        std::vector<std::string>{"--log.format must be logfmt or json, got \"xml\""});
}

TEST_CASE("cli: unknown flags and flags without a value are errors", "[cli]") {
  CHECK(parse({"--bogus", "run"}).errors == std::vector<std::string>{"unknown flag --bogus"});
  CHECK(parse({"--config.fil=x", "run"}).errors ==
        std::vector<std::string>{"unknown flag --config.fil"});
  CHECK(parse({"run", "--config.file"}).errors ==
        std::vector<std::string>{"flag --config.file needs a value"});
  const auto both = parse({"--nope", "--log.level=loud", "run"});
  CHECK(both.errors.size() == 2);
}

TEST_CASE("cli: check-config takes the file as a positional argument", "[cli]") {
  SECTION("positional") {
    const auto cl = parse({"check-config", "config/at.yaml"});
    CHECK(cl.errors.empty());
    CHECK(cl.command == "check-config");
    CHECK(cl.configFile == "config/at.yaml");
    CHECK(cl.args.empty());
  }
  SECTION("the flag wins over a positional") {
    const auto cl = parse({"--config.file=a.yaml", "check-config", "b.yaml"});
    CHECK(cl.configFile == "a.yaml");
    CHECK(cl.args == std::vector<std::string>{"b.yaml"});
  }
  SECTION("--list-targets") {
    const auto cl = parse({"check-config", "--list-targets", "config/at.yaml"});
    CHECK(cl.listTargets);
    CHECK(cl.configFile == "config/at.yaml");
  }
  SECTION("other commands keep their positionals") {
    const auto cl = parse({"once", "x"});
    CHECK(cl.configFile.empty());
    CHECK(cl.args == std::vector<std::string>{"x"});
  }
}

TEST_CASE("cli: --help, -h and --version select their commands", "[cli]") {
  CHECK(parse({"--help"}).command == "help");
  CHECK(parse({"-h"}).command == "help");
  CHECK(parse({"--version"}).command == "version");
  CHECK(parse({}).command.empty());
  CHECK_THAT(envprobe::usageText(), Contains("check-config FILE"));
  CHECK_THAT(envprobe::usageText(), Contains("--config.file=FILE"));
}

TEST_CASE("cli: check-config on config/at.yaml exits 0 and prints the matrix", "[cli][binary]") {
  const auto run = runEnvprobe("check-config " + quoted(source("config/at.yaml")));
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exitCode == 0);
  CHECK_THAT(run.out, Contains("SUCCESS"));
  CHECK_THAT(run.out, Contains("environment at probes 13 target(s)"));
  std::istringstream lines(run.out);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(words(line));
  CHECK_THAT(rows, VectorContains(std::vector<std::string>{"SERVICE", "ENV", "TIER", "INTERNAL",
                                                           "PUBLIC", "BACKENDS", "CHECKS",
                                                           "TARGETS"}));
  CHECK_THAT(rows, VectorContains(std::vector<std::string>{"shop", "at*", "nonprod",
                                                           "shop.at.local", "shop-at.example.com",
                                                           "2", "2", "8"}));
  CHECK(run.err.empty());
}

TEST_CASE("cli: check-config --list-targets prints every target", "[cli][binary]") {
  const auto run = runEnvprobe("check-config --list-targets " + quoted(source("config/at.yaml")));
  CHECK(run.exitCode == 0);
  CHECK_THAT(run.out, Contains("http://admin.at.local:8080/login"));
  CHECK_THAT(run.out, Contains("https://shop-at.example.com/healthz"));
}

TEST_CASE("cli: check-config on a catalog with a coverage gap exits 1 and says where",
          "[cli][binary]") {
  const std::string services = source("tests/fixtures/coverage-gap/services.yaml");
  const std::string agent = source("tests/fixtures/coverage-gap/at.yaml");
  const auto run = runEnvprobe("check-config " + quoted(agent));
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exitCode == 1);
  CHECK_THAT(run.err, Contains(services + ":11:9: error: services[0].hostnames.public"));
  CHECK_THAT(run.err, Contains("service \"billing\""));
  CHECK_THAT(run.err, Contains("environment \"at\""));
  CHECK_THAT(run.err, Contains("FAILED"));
  CHECK_THAT(run.out, !Contains("SUCCESS"));
}

TEST_CASE("cli: check-config reports every error of a broken file and exits 1", "[cli][binary]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: qa\ndefualts: {}\n");
  const auto run = runEnvprobe("check-config " + quoted(file));
  CHECK(run.exitCode == 1);
  CHECK_THAT(run.err, Contains(file + ":1:14: error: environment:"));
  CHECK_THAT(run.err, Contains(file + ":2:1: error: defualts: unknown key"));
  CHECK_THAT(run.err, Contains("2 error(s)"));
}

TEST_CASE("cli: check-config on a missing file exits 1", "[cli][binary]") {
  TempDir dir;
  const auto file = (dir.path() / "absent.yaml").string();
  const auto run = runEnvprobe("check-config " + quoted(file));
  CHECK(run.exitCode == 1);
  CHECK_THAT(run.err, Contains(file + ": error: cannot read file"));
}

TEST_CASE("cli: exit codes of --version, --help and bad invocations", "[cli][binary]") {
  SECTION("--version") {
    const auto run = runEnvprobe("--version");
    CHECK(run.exitCode == 0);
    CHECK_THAT(run.out, Catch::StartsWith("envprobe, version "));
  }
  SECTION("--help") {
    const auto run = runEnvprobe("--help");
    CHECK(run.exitCode == 0);
    CHECK_THAT(run.out, Contains("usage: envprobe"));
  }
  SECTION("an unknown command") {
    const auto run = runEnvprobe("frobnicate");
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Contains("unknown command \"frobnicate\""));
  }
  SECTION("an unknown flag") {
    const auto run = runEnvprobe("--frob check-config x.yaml");
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Contains("unknown flag --frob"));
  }
  SECTION("no command") {
    CHECK(runEnvprobe("").exitCode == 2);
  }
  SECTION("check-config without a file") {
    const auto run = runEnvprobe("check-config");
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Contains("check-config FILE"));
  }
}

TEST_CASE("cli: --config.auto-reload-interval is off by default and parsed as a duration",
          "[cli]") {
  using std::chrono::milliseconds;
  const auto off = parse({"run"});
  CHECK(off.autoReloadInterval.empty());
  CHECK(off.autoReloadIntervalValue == milliseconds(0));
  SECTION("with =") {
    const auto cl = parse({"run", "--config.auto-reload-interval=30s"});
    CHECK(cl.errors.empty());
    CHECK(cl.autoReloadInterval == "30s");
    CHECK(cl.autoReloadIntervalValue == milliseconds(30'000));
  }
  SECTION("with a separate value") {
    const auto cl = parse({"--config.auto-reload-interval", "1m30s", "run"});
    CHECK(cl.errors.empty());
    CHECK(cl.command == "run");
    CHECK(cl.autoReloadIntervalValue == milliseconds(90'000));
  }
  SECTION("0 and 0s turn it off") {
    const std::string value = GENERATE(as<std::string>{}, "0", "0s");
    const std::string flag = "--config.auto-reload-interval=" + value;
    const auto cl = parse({"run", flag.c_str()});
    CHECK(cl.errors.empty());
    CHECK(cl.autoReloadIntervalValue == milliseconds(0));
  }
  SECTION("not a duration") {
    const std::string value = GENERATE(as<std::string>{}, "x", "30", "-5s", "5 s", "2y", "");
    const std::string flag = "--config.auto-reload-interval=" + value;
    const auto cl = parse({"run", flag.c_str()});
    if (value.empty()) {
      CHECK(cl.errors.empty());  // an empty value is the default: off
    } else {
      REQUIRE(cl.errors.size() == 1);
      CHECK(cl.errors[0] == "--config.auto-reload-interval \"" + value +
                                "\": not a duration; write it like 30s, 5m or 1h30m (units ms, "
                                "s, m, h, d; at most a year), or 0 to turn it off");
    }
  }
  SECTION("without a value") {
    CHECK(parse({"run", "--config.auto-reload-interval"}).errors ==
          std::vector<std::string>{"flag --config.auto-reload-interval needs a value"});
  }
}

TEST_CASE("cli: COMMAND --help and help COMMAND name the command to describe", "[cli]") {
  using Strings = std::vector<std::string>;
  for (const std::string command :
       {"run", "once", "check-config", "demo", "deploy", "gate", "version", "help"}) {
    INFO(command);
    for (const auto& cl : {parse({command.c_str(), "--help"}), parse({"-h", command.c_str()}),
                           parse({"help", command.c_str()})}) {
      CHECK(cl.errors.empty());
      CHECK(cl.command == "help");
      CHECK(cl.args == Strings{command});
    }
  }
  CHECK(parse({"--help"}).args.empty());
  CHECK(parse({"help"}).args.empty());
  // A command's positionals do not become help topics.
  const auto checkConfig = parse({"check-config", "x.yaml", "--help"});
  CHECK(checkConfig.args == Strings{"check-config"});
  CHECK(checkConfig.configFile.empty());
  CHECK(parse({"help", "run", "once"}).errors == Strings{"help takes one command, got 2"});
}

TEST_CASE("cli: an unknown command is a usage error, also as a help topic", "[cli]") {
  const std::string expected = "unknown command \"frob\" (commands: run, once, check-config, "
                               "demo, deploy, gate, version, help)";
  CHECK(parse({"frob"}).errors == std::vector<std::string>{expected});
  CHECK(parse({"frob", "--help"}).errors == std::vector<std::string>{expected});
  CHECK(parse({"help", "frob"}).errors == std::vector<std::string>{expected});
  CHECK(parse({}).errors.empty());  // no command: main prints the overview and exits 2
}

TEST_CASE("cli: every command's help gives its usage, flags and exit codes", "[cli]") {
  for (const auto& command : envprobe::commandNames()) {
    INFO(command);
    const auto text = envprobe::commandUsageText(command);
    REQUIRE(text);
    CHECK_THAT(*text, Catch::StartsWith("usage: envprobe " + command));
    CHECK_THAT(*text, Contains("\nExit codes:\n  0  "));
    CHECK_THAT(envprobe::usageText(), Contains("\n  " + command));
  }
  CHECK_FALSE(envprobe::commandUsageText("frob"));
  CHECK_THAT(envprobe::usageText(), Contains("envprobe COMMAND --help"));
  const auto run = *envprobe::commandUsageText("run");
  for (const std::string part :
       {"--config.file=FILE", "--config.auto-reload-interval=DURATION", "Default 0: off",
        "--web.listen-address=ADDR", "--web.config.file=FILE", "--log.level=LEVEL",
        "(default info)", "SIGHUP", "POST /-/reload", "/-/ready", "/-/healthy", "/metrics",
        "keep their state", "the old configuration\nkeeps running",
        "0  clean stop on SIGTERM or SIGINT", "1  cannot start"}) {
    CHECK_THAT(run, Contains(part));
  }
  const auto once = *envprobe::commandUsageText("once");
  CHECK_THAT(once, Contains("--format=FORMAT        table | json (default table)"));
  CHECK_THAT(once, Contains("1  at least one target failed"));
  CHECK_THAT(once, Contains("zero\n     targets"));
  const auto checkConfig = *envprobe::commandUsageText("check-config");
  CHECK_THAT(checkConfig, Contains("--list-targets"));
  CHECK_THAT(checkConfig, Contains("0  valid (warnings allowed)"));
  CHECK_THAT(*envprobe::commandUsageText("demo"), Contains("--demo.duration=DURATION"));
}

TEST_CASE("cli: help for a command exits 0 on stdout; a bad topic exits 2", "[cli][binary]") {
  SECTION("run --help") {
    const auto run = runEnvprobe("run --help");
    CHECK(run.exitCode == 0);
    CHECK(run.out == *envprobe::commandUsageText("run"));
    CHECK(run.err.empty());
  }
  SECTION("help once") {
    const auto run = runEnvprobe("help once");
    CHECK(run.exitCode == 0);
    CHECK(run.out == *envprobe::commandUsageText("once"));
  }
  SECTION("help frob") {
    const auto run = runEnvprobe("help frob");
    CHECK(run.exitCode == 2);
    CHECK(run.out.empty());
    CHECK_THAT(run.err, Contains("unknown command \"frob\""));
  }
  SECTION("no command: the overview, on stderr") {
    const auto run = runEnvprobe("");
    CHECK(run.exitCode == 2);
    CHECK(run.out.empty());
    CHECK_THAT(run.err, Contains("usage: envprobe"));
    CHECK_THAT(run.err, Contains("error: no command given"));
  }
  SECTION("a bad flag value points at the command's help") {
    const auto run = runEnvprobe("run --config.auto-reload-interval=soon");
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Contains("--config.auto-reload-interval \"soon\": not a duration"));
    CHECK_THAT(run.err, Contains("Try 'envprobe run --help'."));
  }
}

TEST_CASE("cli: once on a config with zero targets for its environment exits 2",
          "[cli][binary]") {
  TempDir dir;
  dir.write("services.yaml", R"(environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: web
    hostnames: { internal: { at: [], prod: [web.prod.local] }, public: [] }
    checks: [{ name: home, http: {} }]
)");
  const auto agent = dir.write("at.yaml", "environment: at\ninclude: [services.yaml]\n");
  const auto run = runEnvprobe("once --config.file=" + quoted(agent));
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exitCode == 2);
  CHECK(run.out.empty());
  CHECK_THAT(run.err, Contains("warning: environments.at: environment \"at\" would probe zero "
                               "targets"));
  CHECK_THAT(run.err, Contains("error: " + agent + ": environment \"at\" expands to zero "
                               "targets (catalog from " + (dir.path() / "services.yaml").string() +
                               "); nothing to probe, so nothing passed"));
  // check-config shows the same warning and still passes.
  const auto check = runEnvprobe("check-config " + quoted(agent));
  CHECK(check.exitCode == 0);
  CHECK_THAT(check.err, Contains("would probe zero targets; it is this agent's environment"));
}
