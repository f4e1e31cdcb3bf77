// Deployment verification in the config: http.version, http.track, expect.identity and the agent's
// api token; every error with file:line:column; a changed version source changes the target.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "probe/catalog/target_diff.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/config/load_result_support.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;
using Catch::Matchers::Contains;
using envprobe::testing::onlyError;
using envprobe::testing::requireClean;
using envprobe::testing::TempDir;

namespace {

// One check whose http block's keys are `http` (indented 10 spaces, from line 12 on).
std::string agentWithCheck(const TempDir& dir, const std::string& http,
                           const std::string& top = "") {
  return dir.write("agent.yaml", "environment: at\n" + top + R"(environments:
  at: { tier: nonprod }
services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public: []
    checks:
      - name: home
        http:
)" + http);
}

const HttpCheckSpec& onlySpec(const LoadResult& result) {
  requireClean(result);
  return *result.config.catalog.services.at(0).checks.at(0).http;
}

}  // namespace

TEST_CASE("deploy config: version is read from a JSON path, a header or a regex", "[config]") {
  TempDir dir;
  const auto [yaml, kind, key] = GENERATE(table<std::string, ValueSource::Kind, std::string>({
      {"version: { json: build.version }", ValueSource::Kind::Json, "build.version"},
      {"version: { header: X-App-Version }", ValueSource::Kind::Header, "X-App-Version"},
      {"version: { regex: \"v([0-9.]+)\" }", ValueSource::Kind::Regex, "v([0-9.]+)"},
      {"version: { regex: \"v[0-9.]+\" }", ValueSource::Kind::Regex, "v[0-9.]+"},
      {"version: { regex: \"(?:v|V)([0-9.]+)\" }", ValueSource::Kind::Regex, "(?:v|V)([0-9.]+)"},
  }));
  INFO(yaml);
  const auto result = loadConfig(agentWithCheck(dir, "          " + yaml + "\n"));
  const HttpCheckSpec& spec = onlySpec(result);
  CHECK(spec.version == ValueSource{kind, key});
}

TEST_CASE("deploy config: no version source by default", "[config]") {
  TempDir dir;
  const auto result = loadConfig(agentWithCheck(dir, "          path: /\n"));
  const HttpCheckSpec& spec = onlySpec(result);
  CHECK_FALSE(spec.version.set());
  CHECK_FALSE(spec.expect.identity.has_value());
}

TEST_CASE("deploy config: track defaults to server, certificate, addresses and version",
          "[config]") {
  TempDir dir;
  SECTION("absent") {
    const auto result = loadConfig(agentWithCheck(dir, "          path: /\n"));
    const HttpCheckSpec& spec = onlySpec(result);
    CHECK(spec.tracks(Fact::Server));
    CHECK(spec.tracks(Fact::Certificate));
    CHECK(spec.tracks(Fact::Addresses));
    CHECK(spec.tracks(Fact::Version));
    CHECK_FALSE(spec.tracks(Fact::Body));
  }
  SECTION("empty: nothing") {
    const auto result = loadConfig(agentWithCheck(dir, "          track: []\n"));
    const HttpCheckSpec& spec = onlySpec(result);
    CHECK(spec.track.empty());
    for (Fact fact : kAllFacts) CHECK_FALSE(spec.tracks(fact));
  }
  SECTION("listed: exactly those") {
    const auto result = loadConfig(agentWithCheck(dir, "          track: [body, server]\n"));
    const HttpCheckSpec& spec = onlySpec(result);
    CHECK(spec.tracks(Fact::Body));
    CHECK(spec.tracks(Fact::Server));
    CHECK_FALSE(spec.tracks(Fact::Certificate));
    CHECK_FALSE(spec.tracks(Fact::Addresses));
    CHECK_FALSE(spec.tracks(Fact::Version));
  }
  SECTION("all five") {
    const auto result = loadConfig(
        agentWithCheck(dir, "          track: [server, certificate, addresses, version, body]\n"));
    const HttpCheckSpec& spec = onlySpec(result);
    for (Fact fact : kAllFacts) CHECK(spec.tracks(fact));
  }
}

TEST_CASE("deploy config: fact names", "[config]") {
  CHECK(std::string(toString(Fact::Server)) == "server");
  CHECK(std::string(toString(Fact::Certificate)) == "certificate");
  CHECK(std::string(toString(Fact::Addresses)) == "addresses");
  CHECK(std::string(toString(Fact::Version)) == "version");
  CHECK(std::string(toString(Fact::Body)) == "body");
  for (Fact fact : kAllFacts) CHECK(factFromString(toString(fact)) == fact);
  CHECK_FALSE(factFromString("cert").has_value());
}

TEST_CASE("deploy config: identity with and without equals", "[config]") {
  TempDir dir;
  SECTION("default equals is {env}") {
    const auto result = loadConfig(agentWithCheck(dir, R"(          expect:
            identity: { header: X-Environment }
)"));
    const HttpCheckSpec& spec = onlySpec(result);
    REQUIRE(spec.expect.identity);
    CHECK(spec.expect.identity->source == ValueSource{ValueSource::Kind::Header, "X-Environment"});
    CHECK(spec.expect.identity->equals == "{env}");
  }
  SECTION("json with equals") {
    const auto result = loadConfig(agentWithCheck(dir, R"(          expect:
            identity: { json: meta.env, equals: "{env}-eu" }
)"));
    const HttpCheckSpec& spec = onlySpec(result);
    REQUIRE(spec.expect.identity);
    CHECK(spec.expect.identity->source == ValueSource{ValueSource::Kind::Json, "meta.env"});
    CHECK(spec.expect.identity->equals == "{env}-eu");
  }
  SECTION("regex") {
    const auto result = loadConfig(agentWithCheck(dir, R"y(          expect:
            identity: { regex: "env=([a-z]+)" }
)y"));
    const HttpCheckSpec& spec = onlySpec(result);
    REQUIRE(spec.expect.identity);
    CHECK(spec.expect.identity->source == ValueSource{ValueSource::Kind::Regex, "env=([a-z]+)"});
  }
}

TEST_CASE("deploy config: bad version, track and identity are refused where they are written",
          "[config]") {
  TempDir dir;
  const auto [http, where, why] = GENERATE(table<std::string, std::string, std::string>({
      {"          version: { jsn: build.version }\n",
       ":12:22:", "unknown key \"jsn\" (did you mean \"json\"?)"},
      {"          version: {}\n", ":12:20:", "version needs one of json, header or regex"},
      {"          version: { json: a, header: X-V }\n",
       ":12:39:", "give one of json, header or regex, not both json and header"},
      {"          version: build.version\n", ":12:20:", "expected a map, got a scalar"},
      {"          version: { json: \"\" }\n", ":12:28:", "must not be empty"},
      {"          version: { json: \"build..version\" }\n", ":12:28:", "has an empty step"},
      {"          version: { header: \"X App\" }\n", ":12:30:", "header"},
      {"          version: { regex: \"v([0-9.]+\" }\n", ":12:29:", "invalid regex"},
      {"          version: { regex: \"(v)([0-9.]+)\" }\n", ":12:29:", "has 2 capture groups"},
      {"          version: { regex: \"a.{1000}b\" }\n", ":12:29:", "pattern too costly"},
      {"          track: [server, cert]\n", ":12:27:",
       "unknown fact \"cert\"; expected server, certificate, addresses, version or body"},
      {"          track: [sever]\n", ":12:19:", "(did you mean \"server\"?)"},
      {"          track: [body, body]\n", ":12:25:", "\"body\" is listed twice"},
      {"          track: body\n", ":12:18:", "expected a list of strings"},
      {"          expect: { identity: {} }\n", ":12:31:", "identity needs one of json, header"},
      {"          expect: { identity: { json: env, regex: \"x\" } }\n",
       ":12:51:", "not both json and regex"},
      {"          expect: { identity: { json: env, equal: prod } }\n",
       ":12:44:", "unknown key \"equal\" (did you mean \"equals\"?)"},
      {"          expect: { identity: { json: env, equals: \"\" } }\n",
       ":12:52:", "must not be empty"},
      {"          expect: { identity: { regex: \"(a)(b)\" } }\n",
       ":12:40:", "has 2 capture groups"},
  }));
  INFO(http);
  const auto file = agentWithCheck(dir, http);
  const std::string error = onlyError(loadConfig(file));
  CHECK_THAT(error, Contains(file + where));
  CHECK_THAT(error, Contains(why));
}

TEST_CASE("deploy config: api token from a file", "[config]") {
  TempDir dir;
  SECTION("absent: the control API is off") {
    const auto result = loadConfig(agentWithCheck(dir, "          path: /\n"));
    requireClean(result);
    CHECK_FALSE(result.config.api.enabled());
    CHECK(result.config.api.token.empty());
  }
  SECTION("read, trimmed, relative to the agent file") {
    dir.write("secrets/api-token", "  0123456789abcdef0123\n\n");
    const auto file =
        agentWithCheck(dir, "          path: /\n", "api: { token_file: secrets/api-token }\n");
    const auto result = loadConfig(file);
    requireClean(result);
    CHECK(result.config.api.enabled());
    CHECK(result.config.api.token == "0123456789abcdef0123");
    CHECK(result.config.api.tokenFile == (dir.path() / "secrets/api-token").string());
    CHECK(result.config.api.where.line == 2);
  }
}

TEST_CASE("deploy config: a missing, empty or short api token is refused", "[config]") {
  TempDir dir;
  dir.write("empty", "\n");
  dir.write("blank", "   \n  \n");
  dir.write("short", "abc123\n");
  dir.write("fifteen", "0123456789abcde");
  dir.write("spaced", "0123456789 abcdef0123\n");
  dir.write("two-lines", "0123456789abcdef\nsecond-line-here\n");
  const auto [api, where, why] = GENERATE(table<std::string, std::string, std::string>({
      {"api: { token_file: nope }\n", ":2:20:", "nope\": no such file"},
      {"api: { token_file: empty }\n", ":2:20:", "empty\" is empty"},
      {"api: { token_file: blank }\n", ":2:20:", "blank\" is empty"},
      {"api: { token_file: short }\n", ":2:20:", "short\" is shorter than 16 characters"},
      {"api: { token_file: fifteen }\n", ":2:20:", "fifteen\" is shorter than 16 characters"},
      {"api: { token_file: spaced }\n", ":2:20:", "has a space or control character"},
      {"api: { token_file: two-lines }\n", ":2:20:", "has a space or control character"},
      {"api: { token_file: . }\n", ":2:20:", "is not a regular file"},
      {"api: { token_file: \"\" }\n", ":2:20:", "must not be empty"},
      {"api: {}\n", ":2:6:", "missing required key: the file holding the control API's"},
      {"api: secret-file\n", ":2:6:", "expected a map"},
  }));
  INFO(api);
  const auto file = agentWithCheck(dir, "          path: /\n", api);
  const auto result = loadConfig(file);
  const std::string error = onlyError(result);
  CHECK_THAT(error, Contains(file + where));
  CHECK_THAT(error, Contains(why));
  CHECK_THAT(error, !Contains("abc123"));  // a token is never quoted
  CHECK_THAT(error, !Contains("0123456789"));
  CHECK_FALSE(result.config.api.enabled());
}

TEST_CASE("deploy config: an unknown key in api is named", "[config]") {
  TempDir dir;
  const auto file = agentWithCheck(dir, "          path: /\n", "api: { token: abc }\n");
  const auto errors = envprobe::testing::formatted(loadConfig(file));
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0] + errors[1],
             Contains(file + ":2:8: error: api.token: unknown key \"token\""));
  CHECK_THAT(errors[0] + errors[1], Contains("missing required key"));
}

TEST_CASE("deploy config: a changed version source, track or identity changes the target",
          "[config]") {
  auto target = [](const HttpCheckSpec& spec) {
    Target t;
    t.id = "web/home/at/internal/web.at.local";
    t.http = std::make_shared<const HttpCheckSpec>(spec);
    return t;
  };
  HttpCheckSpec base;
  base.version = {ValueSource::Kind::Json, "build.version"};
  const Target before = target(base);
  CHECK(sameDefinition(before, target(base)));

  HttpCheckSpec otherPath = base;
  otherPath.version.key = "version";
  CHECK_FALSE(sameDefinition(before, target(otherPath)));

  HttpCheckSpec otherKind = base;
  otherKind.version.kind = ValueSource::Kind::Header;
  CHECK_FALSE(sameDefinition(before, target(otherKind)));

  HttpCheckSpec tracked = base;
  tracked.track.add(Fact::Body);
  CHECK_FALSE(sameDefinition(before, target(tracked)));

  HttpCheckSpec identity = base;
  identity.expect.identity = IdentityExpect{{ValueSource::Kind::Json, "env"}};
  CHECK_FALSE(sameDefinition(before, target(identity)));
  HttpCheckSpec otherEquals = identity;
  otherEquals.expect.identity->equals = "prod";
  CHECK_FALSE(sameDefinition(target(identity), target(otherEquals)));

  const Target after = target(otherPath);
  const TargetDiff diff = diffTargets({&before}, {&after});
  CHECK(diff.changed == std::vector<std::string>{before.id});
  CHECK(diff.unchanged.empty());
}
