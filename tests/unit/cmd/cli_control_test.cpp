// The command line of deploy and gate: flags, defaults, what is required, and the usage errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "probe/cmd/cli.hpp"

using Catch::Matchers::Contains;
using envprobe::CommandLine;
using Strings = std::vector<std::string>;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "envprobe");
  return envprobe::parseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("cli: deploy takes its flags in both forms; defaults", "[cli][control]") {
  const auto cl = parse({"deploy", "--agent", "http://127.0.0.1:9470/", "--token-file=/t",
                         "--service", "shop", "--version", "1.5.0"});
  CHECK(cl.errors.empty());
  CHECK(cl.command == "deploy");
  CHECK(cl.control.agent == "http://127.0.0.1:9470/");
  CHECK(cl.control.tokenFile == "/t");
  CHECK(cl.control.service == "shop");
  CHECK(cl.control.version == "1.5.0");
  CHECK(cl.control.convergeWithin.empty());
  CHECK(cl.control.wait.empty());
  CHECK(cl.control.pollIntervalValue == std::chrono::seconds(2));
  CHECK(cl.control.caFile.empty());
}

TEST_CASE("cli: deploy parses --wait, --poll-interval and --converge-within", "[cli][control]") {
  const auto cl = parse({"deploy", "--agent=https://a.example:9470", "--token-file=/t",
                         "--service=shop", "--version=1.5.0", "--wait=10m", "--poll-interval=500ms",
                         "--converge-within=15m", "--ca-file=/ca.pem"});
  CHECK(cl.errors.empty());
  CHECK(cl.control.waitValue == std::chrono::minutes(10));
  CHECK(cl.control.pollIntervalValue == std::chrono::milliseconds(500));
  CHECK(cl.control.convergeWithin == "15m");
  CHECK(cl.control.caFile == "/ca.pem");
}

TEST_CASE("cli: --version after deploy is the version deployed, elsewhere the command",
          "[cli][control]") {
  CHECK(parse({"--version"}).command == "version");
  CHECK(parse({"run", "--version"}).command == "version");
  const auto cl =
      parse({"deploy", "--version", "2.0", "--agent=http://a", "--token-file=t", "--service=s"});
  CHECK(cl.command == "deploy");
  CHECK(cl.control.version == "2.0");
  CHECK(cl.errors.empty());
}

TEST_CASE("cli: deploy names each missing required flag", "[cli][control]") {
  const auto cl = parse({"deploy"});
  REQUIRE(cl.errors.size() == 4);
  CHECK_THAT(cl.errors[0], Contains("deploy needs --agent"));
  CHECK_THAT(cl.errors[1], Contains("deploy needs --token-file"));
  CHECK_THAT(cl.errors[2], Contains("deploy needs --service"));
  CHECK_THAT(cl.errors[3], Contains("deploy needs --version"));
}

TEST_CASE("cli: deploy refuses bad URLs, durations and positionals", "[cli][control]") {
  const auto with = [](std::vector<const char*> extra) {
    std::vector<const char*> args = {"deploy", "--token-file=t", "--service=s", "--version=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return parse(args).errors;
  };
  CHECK(with({"--agent=ftp://a"}) ==
        Strings{"--agent \"ftp://a\": not an http:// or https:// URL"});
  CHECK(with({"--agent=127.0.0.1:9470"}).size() == 1);
  CHECK(with({"--agent=https://"}) == Strings{"--agent \"https://\": the URL names no host"});
  const auto wait = with({"--agent=http://a", "--wait=soon"});
  REQUIRE(wait.size() == 1);
  CHECK_THAT(wait[0], Contains("--wait \"soon\": not a positive duration"));
  CHECK(with({"--agent=http://a", "--wait=0s"}).size() == 1);
  CHECK(with({"--agent=http://a", "--poll-interval=0"}).size() == 1);
  CHECK(with({"--agent=http://a", "--converge-within=10"}).size() == 1);
  CHECK(with({"--agent=http://a", "extra"}) == Strings{"deploy takes no argument, got \"extra\""});
}

TEST_CASE("cli: gate takes --for, filters and --allow-partial", "[cli][control]") {
  const auto cl = parse({"gate", "--agent=http://127.0.0.1:1", "--for=24h", "--service=shop",
                         "--visibility=public", "--allow-partial"});
  CHECK(cl.errors.empty());
  CHECK(cl.command == "gate");
  CHECK(cl.control.window == "24h");
  CHECK(cl.control.service == "shop");
  CHECK(cl.control.visibility == "public");
  CHECK(cl.control.allowPartial);
  CHECK(cl.control.tokenFile.empty());  // optional for gate
}

TEST_CASE("cli: gate usage errors", "[cli][control]") {
  CHECK(parse({"gate", "--agent=http://a"}).errors == Strings{"gate needs --for (e.g. --for=24h)"});
  CHECK(parse({"gate", "--for=24h"}).errors.size() == 1);
  CHECK(parse({"gate", "--agent=http://a", "--for=1y"}).errors.size() == 1);
  CHECK(parse({"gate", "--agent=http://a", "--for=24h", "--visibility=all"}).errors ==
        Strings{"--visibility must be public or internal, got \"all\""});
  CHECK(parse({"gate", "--agent=http://a", "--for=24h", "--service="}).errors ==
        Strings{"--service must not be empty"});
}

TEST_CASE("cli: a control flag on the wrong command is a usage error", "[cli][control]") {
  CHECK(parse({"gate", "--agent=http://a", "--for=24h", "--wait=1m"}).errors ==
        Strings{"--wait is a flag of deploy, not of gate"});
  CHECK(parse({"deploy", "--agent=http://a", "--token-file=t", "--service=s", "--version=1",
               "--for=24h"})
            .errors == Strings{"--for is a flag of gate, not of deploy"});
  CHECK(parse({"run", "--agent=http://a"}).errors ==
        Strings{"--agent is a flag of deploy and gate, not of run"});
  CHECK(parse({"once", "--allow-partial"}).errors ==
        Strings{"--allow-partial is a flag of gate, not of once"});
}

TEST_CASE("cli: deploy --help and gate --help are help topics", "[cli][control]") {
  for (const std::string command : {"deploy", "gate"}) {
    const auto cl = parse({command.c_str(), "--agent=x", "--help"});
    CHECK(cl.errors.empty());
    CHECK(cl.command == "help");
    CHECK(cl.args == Strings{command});
  }
}

TEST_CASE("cli: deploy and gate help give flags, defaults and exit codes", "[cli][control]") {
  const auto deploy = *envprobe::commandUsageText("deploy");
  for (const std::string part :
       {"--agent=URL", "--token-file=FILE", "--service=NAME", "--version=VERSION",
        "--converge-within=DURATION", "--wait=DURATION", "--poll-interval=DURATION", "(default 2s)",
        "--ca-file=FILE", "not probed yet", "0  announced", "1  --wait ran out",
        "2  usage error"}) {
    CHECK_THAT(deploy, Contains(part));
  }
  const auto gate = *envprobe::commandUsageText("gate");
  for (const std::string part :
       {"--agent=URL", "--for=DURATION", "--service=NAME", "--visibility=VISIBILITY",
        "--allow-partial", "--token-file=FILE", "insufficient history", "0  pass", "1  fail",
        "no target matches"}) {
    CHECK_THAT(gate, Contains(part));
  }
}
