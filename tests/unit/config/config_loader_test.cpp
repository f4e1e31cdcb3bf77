#include "probe/config/yaml/config_loader.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/config/load_result_support.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::LoadResult;
using envprobe::loadConfig;
using envprobe::testing::TempDir;
using envprobe::testing::formatted;
using envprobe::testing::onlyError;
using envprobe::testing::requireClean;
using Catch::Matchers::Contains;
using Catch::Matchers::Matches;
using Catch::Matchers::StartsWith;
using Catch::Matchers::VectorContains;
using namespace std::chrono_literals;

namespace {

// The first nine lines of an agent file with one service; a test's own text starts on line 10.
const std::string kHead = R"(environment: at
environments:
  at: { tier: nonprod }
  prod: { tier: prod }
services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public: []
)";

const std::string kChecks = R"(    checks:
      - name: home
        http: { path: / }
)";

// An agent file whose one check `home` continues with `rest` (from line 12 on).
std::string writeCheck(const TempDir& dir, const std::string& rest) {
  return dir.write("agent.yaml", kHead + "    checks:\n      - name: home\n" + rest);
}

// An unknown-key diagnostic up to the list of allowed keys, which grows with the config format.
std::string unknownKey(const std::string& where, const std::string& path, const std::string& key,
                       const std::string& hint) {
  return where + ": error: " + path + ": unknown key \"" + key + "\" (did you mean \"" + hint +
         "\"?); allowed here: ";
}

}  // namespace

TEST_CASE("config loader: a minimal agent file loads into the model", "[config]") {
  TempDir dir;
  const auto r = loadConfig(dir.write("agent.yaml", kHead + kChecks));
  REQUIRE(r.diagnostics.items().empty());
  CHECK(r.config.environment == "at");
  REQUIRE(r.config.catalog.services.size() == 1);
  const auto& web = r.config.catalog.services[0];
  CHECK(web.name == "web");
  CHECK(web.internal.all == std::vector<std::string>{"web.{env}.local"});
  CHECK((web.publicNames.declared && web.publicNames.all.empty()));
  REQUIRE(web.checks.size() == 1);
  CHECK((web.checks[0].http->path == "/" && web.checks[0].http->scheme == "https"));
  CHECK((r.config.defaults.interval == 30s && r.config.defaults.timeout == 10s));
}

TEST_CASE("config loader: unknown top-level key names the closest allowed key", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ndefualts: { interval: 30s }\n"
                                            "environments: { at: { tier: nonprod } }\n");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(unknownKey(file + ":2:1", "defualts", "defualts", "defaults")) &&
                 Contains("environment, include, defaults, dns") && Contains("services"));
}

TEST_CASE("config loader: unknown key in a service suggests the closest key", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    hostname: web.local\n" + kChecks);
  const auto prefix = unknownKey(file + ":10:5", "services[0].hostname", "hostname", "hostnames");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(prefix) && Contains("name, hostnames, backends"));
}

TEST_CASE("config loader: unknown keys in http and expect suggest the closest key", "[config]") {
  TempDir dir;
  const auto file = writeCheck(dir, R"(        http:
          path: /
          shceme: https
          expect:
            stauts: 200
)");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 2);
  const auto all = formatted(r);
  CHECK_THAT(all[0], StartsWith(unknownKey(file + ":14:11", "services[0].checks[0].http.shceme",
                                           "shceme", "scheme")));
  CHECK_THAT(all[1],
             StartsWith(unknownKey(file + ":16:13", "services[0].checks[0].http.expect.stauts",
                                   "stauts", "status")));
}

TEST_CASE("config loader: an unknown key with nothing close gets no suggestion", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    zzzzzzzz: 1\n" + kChecks);
  CHECK_THAT(onlyError(loadConfig(file)),
             Contains("unknown key \"zzzzzzzz\"; allowed here") && !Contains("did you mean"));
}

TEST_CASE("config loader: duplicate key", "[config]") {
  TempDir dir;
  const auto file = writeCheck(dir, "        http: { path: /, path: /x }\n");
  CHECK(onlyError(loadConfig(file)) ==
        file + ":12:26: error: services[0].checks[0].http.path: duplicate key");
}

TEST_CASE("config loader: type errors say what was expected and what was found", "[config]") {
  TempDir dir;
  SECTION("a string where a list is expected") {
    const auto file = writeCheck(dir, R"(        http:
          expect: { body_contains: "Welcome" }
)");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":13:36: error: services[0].checks[0].http.expect.body_contains: expected a "
                 "list of strings, got a scalar");
  }
  SECTION("a map where a scalar is expected") {
    const auto file = writeCheck(dir, R"(        http:
          path: { value: / }
)");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":13:17: error: services[0].checks[0].http.path: expected a string, got a map");
  }
  SECTION("a scalar where a hostname list or map is expected") {
    const auto file = dir.write("agent.yaml", R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: web.local, public: [] }
    checks: [{ name: home, http: { path: / } }]
)");
    CHECK_THAT(onlyError(loadConfig(file)),
               StartsWith(file + ":5:28: error: services[0].hostnames.internal: expected a list "
                                 "of hostnames") && Contains("got a scalar"));
  }
}

TEST_CASE("config loader: bad durations are rejected", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "5x", "0s", "-1s", "30", "1.5s", "");
  TempDir dir;
  const auto file =
      writeCheck(dir, "        interval: \"" + text + "\"\n        http: { path: / }\n");
  const auto r = loadConfig(file);
  INFO("duration: " << text);
  CHECK(onlyError(r) ==
        file + ":12:19: error: services[0].checks[0].interval: invalid duration \"" + text +
            "\"; expected e.g. 500ms, 30s, 2m, 1h");
}

TEST_CASE("config loader: status codes and ranges parse", "[config]") {
  TempDir dir;
  const auto r = loadConfig(writeCheck(
      dir, "        http: { expect: { status: [200-299, 301, 404] } }\n"
           "      - name: single\n        http: { expect: { status: 204 } }\n"));
  REQUIRE(r.ok());
  const auto& checks = r.config.catalog.services.at(0).checks;
  REQUIRE(checks.size() == 2);
  auto ranges = [](const envprobe::CheckDef& check) {
    std::vector<std::pair<int, int>> out;
    for (const auto& range : check.http->expect.status) out.emplace_back(range.lo, range.hi);
    return out;
  };
  CHECK(ranges(checks[0]) == std::vector<std::pair<int, int>>{{200, 299}, {301, 301}, {404, 404}});
  CHECK(ranges(checks[1]) == std::vector<std::pair<int, int>>{{204, 204}});
}

TEST_CASE("config loader: bad status codes and ranges are rejected", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "200-199", "99", "abc", "600", "2xx");
  TempDir dir;
  const auto file = writeCheck(dir, "        http:\n          expect:\n"
                                    "            status: [301, " + text + "]\n");
  const auto r = loadConfig(file);
  INFO("status: " << text);
  CHECK(onlyError(r) ==
        file + ":14:27: error: services[0].checks[0].http.expect.status[1]: invalid status \"" +
            text + "\"; expected a code 100-599 or a range like 200-299");
}

TEST_CASE("config loader: bad regexes are reported where they are written", "[config]") {
  TempDir dir;
  const auto file = writeCheck(dir, R"(        http:
          expect:
            body_regex: ["ok", "(unclosed"]
            headers: { Content-Type: "text/[html" }
)");
  const auto all = formatted(loadConfig(file));
  REQUIRE(all.size() == 2);
  CHECK_THAT(all[0], StartsWith(file + ":14:32: error: services[0].checks[0].http.expect."
                                       "body_regex[1]: invalid regex: "));
  CHECK_THAT(all[1], StartsWith(file + ":15:38: error: services[0].checks[0].http.expect."
                                       "headers.Content-Type: invalid regex: "));
}

TEST_CASE("config loader: unknown environments in hostnames and backends", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", R"(environment: at
environments:
  at: { tier: nonprod }
  prod: { tier: prod }
services:
  - name: web
    hostnames:
      internal: []
      public:
        at: [web-at.example.com]
        prd: [web.example.com]
    backends:
      proud: ["10.0.0.1:443"]
    checks:
      - name: home
        http: { path: / }
)");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 2);
  const auto all = formatted(r);
  CHECK_THAT(all, VectorContains(file + ":11:9: error: services[0].hostnames.public.prd: unknown "
                                        "environment \"prd\" (did you mean \"prod\"?); declared: "
                                        "at, prod"));
  CHECK_THAT(all, VectorContains(file + ":13:7: error: services[0].backends.proud: unknown "
                                        "environment \"proud\" (did you mean \"prod\"?); "
                                        "declared: at, prod"));
}

TEST_CASE("config loader: the agent's environment must be declared", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: staging\n" +
                                                kHead.substr(kHead.find('\n') + 1) + kChecks);
  CHECK(onlyError(loadConfig(file)) ==
        file + ":1:14: error: environment: environment \"staging\" is not declared in "
               "`environments` (declared: at, prod)");
}

TEST_CASE("config loader: timeout may not exceed interval", "[config]") {
  TempDir dir;
  auto withCheck = [&](const std::string& timing) {
    return writeCheck(dir, timing + "        http: { path: / }\n");
  };
  SECTION("in the defaults") {
    const auto file = dir.write("agent.yaml", "defaults: { interval: 5s, timeout: 6s }\n" +
                                                  kHead.substr(kHead.find('\n') + 1) + kChecks);
    CHECK(onlyError(loadConfig(file)) ==
          file + ":1:11: error: defaults.timeout: timeout 6s exceeds interval 5s");
  }
  SECTION("in a check, both given") {
    const auto file = withCheck("        interval: 5s\n        timeout: 6s\n");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":11:9: error: services[0].checks[0]: timeout 6s exceeds interval 5s");
  }
  SECTION("in a check whose interval is below the default timeout") {
    const auto file = withCheck("        interval: 5s\n");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":11:9: error: services[0].checks[0]: timeout 10s exceeds interval 5s");
  }
  SECTION("equal is fine") {
    CHECK(loadConfig(withCheck("        interval: 5s\n        timeout: 5s\n")).ok());
  }
}

TEST_CASE("config loader: hostnames must say both public and internal", "[config]") {
  const std::string missing = GENERATE(as<std::string>{}, "public", "internal");
  const std::string present = missing == "public" ? "internal" : "public";
  TempDir dir;
  const auto file = dir.write("agent.yaml", R"(environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames:
      )" + present + R"(: [web.local]
    checks: [{ name: home, http: { path: / } }]
)");
  CHECK(onlyError(loadConfig(file)) ==
        file + ":5:7: error: services[0].hostnames." + missing + ": missing; list the " + missing +
            " hostnames, or write `" + missing + ": []` if there are none");
}

TEST_CASE("config loader: invalid YAML syntax reports a line", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [a.yaml\nlisten: x\n");
  // yaml-cpp stops at the line where the unclosed list runs into the next key.
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(file + ":") && Matches(".*\\.yaml:[23]:[0-9]+: error: invalid YAML: .+"));
}

TEST_CASE("config loader: a file that cannot be read is an error", "[config]") {
  TempDir dir;
  const auto file = (dir.path() / "absent.yaml").string();
  CHECK(onlyError(loadConfig(file)) == file + ": error: cannot read file");
}

TEST_CASE("config loader: an include that matches nothing is an error", "[config]") {
  const std::string pattern = GENERATE(as<std::string>{}, "missing.yaml", "conf.d/*.yaml");
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [\"" + pattern + "\"]\n");
  CHECK_THAT(formatted(loadConfig(file)),
             VectorContains(file + ":2:11: error: include[0]: \"" + pattern +
                            "\" matches no file (relative to " + dir.path().string() + ")"));
}

TEST_CASE("config loader: a glob include merges catalog files in name order", "[config]") {
  TempDir dir;
  const auto a = dir.write("catalog/a.yaml", R"(environments: { at: { tier: nonprod } }
services:
  - name: one
    hostnames: { internal: [one.local], public: [] }
    checks: [{ name: home, http: { path: / } }]
)");
  const auto b = dir.write("catalog/b.yaml", R"(services:
  - name: two
    hostnames: { internal: [two.local], public: [] }
    checks: [{ name: home, http: { path: / } }]
)");
  dir.write("catalog/notes.txt", "not yaml: [");
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [\"catalog/*.yaml\"]\n");
  const auto r = loadConfig(file);
  INFO(Catch::Detail::stringify(formatted(r)));
  REQUIRE(r.ok());
  CHECK(r.config.includes == std::vector<std::string>{a, b});
  const auto& services = r.config.catalog.services;
  REQUIRE(services.size() == 2);
  CHECK((services[0].name == "one" && services[1].name == "two"));
  CHECK(services[1].where.file == b);
  CHECK(r.config.catalog.environments.size() == 1);
}

TEST_CASE("config loader: an included file's errors carry its own name", "[config]") {
  TempDir dir;
  dir.write("catalog/a.yaml", "environments: { at: { tier: nonprod } }\n");
  const auto b = dir.write("catalog/b.yaml", R"(services:
  - name: two
    hostnames: { internal: [two.local], public: [] }
    checks:
      - name: home
        http: { path: /, methd: GET }
)");
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [catalog/*.yaml]\n");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(unknownKey(b + ":6:26", "services[0].checks[0].http.methd", "methd",
                                   "method")));
}

TEST_CASE("config loader: every error in a file is reported, not just the first", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", R"(environment: at
defaults: { interval: 5x }
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [web.local], public: [] }
    checks:
      - name: home
        http:
          scheme: gopher
          port: 70000
          path: no-slash
          expect:
            status: [99]
            max_duration: 0s
)");
  const auto r = loadConfig(file);
  INFO(Catch::Detail::stringify(formatted(r)));
  CHECK(r.diagnostics.errorCount() == 6);
  std::vector<int> lines;
  for (const auto& d : r.diagnostics.items()) lines.push_back(d.where.line);
  CHECK(lines == std::vector<int>{2, 10, 11, 12, 14, 15});
}

TEST_CASE("config loader: the example configs load without errors", "[config]") {
  const std::string name = GENERATE(as<std::string>{}, "dev", "at", "prod");
  const auto r = loadConfig(std::string(ENVPROBE_SOURCE_DIR) + "/config/" + name + ".yaml");
  INFO(Catch::Detail::stringify(formatted(r)));
  REQUIRE(r.diagnostics.items().empty());
  CHECK(r.config.environment == name);
  REQUIRE(r.config.includes.size() == 1);
  CHECK_THAT(r.config.includes[0], Catch::Matchers::EndsWith("/config/services.yaml"));
  CHECK((r.config.catalog.environments.size() == 3 && r.config.catalog.services.size() == 3));
  CHECK((r.config.defaults.interval == 30s && r.config.defaults.timeout == 10s));
  CHECK(r.config.dns.servers.size() == (name == "prod" ? 2u : 0u));
}
