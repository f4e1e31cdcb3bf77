#include "probe/config_loader.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/test_files.hpp"

using envprobe::LoadResult;
using envprobe::loadConfig;
using envprobe::testing::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::VectorContains;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> formatted(const LoadResult& result) {
  std::vector<std::string> out;
  for (const auto& d : result.diagnostics.items()) out.push_back(d.format());
  return out;
}

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

}  // namespace

TEST_CASE("config loader: a minimal agent file loads into the model", "[config]") {
  TempDir dir;
  const auto r = loadConfig(dir.write("agent.yaml", kHead + kChecks));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.items().empty());
  CHECK(r.config.environment == "at");
  REQUIRE(r.config.catalog.services.size() == 1);
  const auto& web = r.config.catalog.services[0];
  CHECK(web.name == "web");
  CHECK(web.internal.all == std::vector<std::string>{"web.{env}.local"});
  CHECK(web.publicNames.declared);
  CHECK(web.publicNames.all.empty());
  REQUIRE(web.checks.size() == 1);
  CHECK(web.checks[0].http->path == "/");
  CHECK(web.checks[0].http->scheme == "https");
  CHECK(r.config.defaults.interval == 30s);
  CHECK(r.config.defaults.timeout == 10s);
}

TEST_CASE("config loader: unknown top-level key names the closest allowed key", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ndefualts: { interval: 30s }\n"
                                            "environments: { at: { tier: nonprod } }\n");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":2:1: error: defualts: unknown key \"defualts\" (did you mean \"defaults\"?); "
               "allowed here: environment, include, defaults, dns, scheduler, listen, "
               "environments, services");
}

TEST_CASE("config loader: unknown key in a service suggests the closest key", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    hostname: web.local\n" + kChecks);
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  const auto& d = r.diagnostics.items()[0];
  CHECK(d.where.file == file);
  CHECK(d.where.line == 10);
  CHECK(d.where.column == 5);
  CHECK(d.keyPath == "services[0].hostname");
  CHECK(d.format() == file + ":10:5: error: services[0].hostname: unknown key \"hostname\" (did "
                             "you mean \"hostnames\"?); allowed here: name, hostnames, backends, "
                             "address_mode, checks");
}

TEST_CASE("config loader: unknown keys in http and expect suggest the closest key", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        http:
          path: /
          shceme: https
          expect:
            stauts: 200
)");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 2);
  const auto all = formatted(r);
  CHECK_THAT(all, VectorContains(file + ":14:11: error: services[0].checks[0].http.shceme: unknown "
                                        "key \"shceme\" (did you mean \"scheme\"?); allowed here: "
                                        "scheme, port, method, path, headers, body, "
                                        "follow_redirects, max_redirects, body_limit, tls, "
                                        "expect"));
  CHECK_THAT(all, VectorContains(file + ":16:13: error: services[0].checks[0].http.expect.stauts: "
                                        "unknown key \"stauts\" (did you mean \"status\"?); "
                                        "allowed here: status, body_contains, body_not_contains, "
                                        "body_regex, headers, json, max_duration"));
}

TEST_CASE("config loader: an unknown key with nothing close gets no suggestion", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    zzzzzzzz: 1\n" + kChecks);
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK_THAT(r.diagnostics.items()[0].message, !Contains("did you mean"));
  CHECK_THAT(r.diagnostics.items()[0].message, Contains("unknown key \"zzzzzzzz\""));
}

TEST_CASE("config loader: duplicate key", "[config]") {
  TempDir dir;
  const auto file =
      dir.write("agent.yaml", kHead + "    checks:\n      - name: home\n        http: { path: /, "
                                      "path: /x }\n");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":12:26: error: services[0].checks[0].http.path: duplicate key");
}

TEST_CASE("config loader: type errors say what was expected and what was found", "[config]") {
  TempDir dir;
  SECTION("a string where a list is expected") {
    const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        http:
          expect: { body_contains: "Welcome" }
)");
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    CHECK(r.diagnostics.items()[0].format() ==
          file + ":13:36: error: services[0].checks[0].http.expect.body_contains: expected a "
                 "list of strings, got a scalar");
  }
  SECTION("a map where a scalar is expected") {
    const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        http:
          path: { value: / }
)");
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    CHECK(r.diagnostics.items()[0].format() ==
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
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    const auto& d = r.diagnostics.items()[0];
    CHECK(d.where.line == 5);
    CHECK(d.where.column == 28);
    CHECK(d.keyPath == "services[0].hostnames.internal");
    CHECK_THAT(d.message, Contains("got a scalar"));
  }
}

TEST_CASE("config loader: bad durations are rejected", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "5x", "0s", "-1s", "30", "1.5s", "");
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    checks:\n      - name: home\n"
                                                    "        interval: \"" + text + "\"\n"
                                                    "        http: { path: / }\n");
  const auto r = loadConfig(file);
  INFO("duration: " << text);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":12:19: error: services[0].checks[0].interval: invalid duration \"" + text +
            "\"; expected e.g. 500ms, 30s, 2m, 1h");
}

TEST_CASE("config loader: status codes and ranges parse", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: list
        http: { expect: { status: [200-299, 301, 404-404] } }
      - name: single
        http: { expect: { status: 204 } }
)");
  const auto r = loadConfig(file);
  REQUIRE(r.ok());
  const auto& checks = r.config.catalog.services.at(0).checks;
  REQUIRE(checks.size() == 2);
  const auto& list = checks[0].http->expect.status;
  REQUIRE(list.size() == 3);
  CHECK((list[0].lo == 200 && list[0].hi == 299));
  CHECK((list[1].lo == 301 && list[1].hi == 301));
  CHECK((list[2].lo == 404 && list[2].hi == 404));
  const auto& single = checks[1].http->expect.status;
  REQUIRE(single.size() == 1);
  CHECK((single[0].lo == 204 && single[0].hi == 204));
}

TEST_CASE("config loader: bad status codes and ranges are rejected", "[config]") {
  const std::string text = GENERATE(as<std::string>{}, "200-199", "99", "abc", "600", "2xx");
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + "    checks:\n      - name: home\n"
                                                    "        http:\n          expect:\n"
                                                    "            status: [301, " + text + "]\n");
  const auto r = loadConfig(file);
  INFO("status: " << text);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":14:27: error: services[0].checks[0].http.expect.status[1]: invalid status \"" +
            text + "\"; expected a code 100-599 or a range like 200-299");
}

TEST_CASE("config loader: bad regexes are reported where they are written", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        http:
          expect:
            body_regex: ["ok", "(unclosed"]
            headers: { Content-Type: "text/[html" }
)");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 2);
  const auto& body = r.diagnostics.items()[0];
  CHECK(body.where.line == 14);
  CHECK(body.where.column == 32);
  CHECK(body.keyPath == "services[0].checks[0].http.expect.body_regex[1]");
  CHECK_THAT(body.message, Contains("invalid regex"));
  const auto& header = r.diagnostics.items()[1];
  CHECK(header.where.line == 15);
  CHECK(header.keyPath == "services[0].checks[0].http.expect.headers.Content-Type");
  CHECK_THAT(header.message, Contains("invalid regex"));
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
  const auto file = dir.write("agent.yaml", "environment: staging\n" + kHead.substr(kHead.find('\n') + 1) + kChecks);
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":1:14: error: environment: environment \"staging\" is not declared in "
               "`environments` (declared: at, prod)");
}

TEST_CASE("config loader: timeout may not exceed interval", "[config]") {
  TempDir dir;
  SECTION("in the defaults") {
    const auto file = dir.write("agent.yaml", "defaults: { interval: 5s, timeout: 6s }\n" +
                                                  kHead.substr(kHead.find('\n') + 1) + kChecks);
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    CHECK(r.diagnostics.items()[0].format() ==
          file + ":1:11: error: defaults.timeout: timeout 6s exceeds interval 5s");
  }
  SECTION("in a check, both given") {
    const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        interval: 5s
        timeout: 6s
        http: { path: / }
)");
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    CHECK(r.diagnostics.items()[0].format() ==
          file + ":11:9: error: services[0].checks[0]: timeout 6s exceeds interval 5s");
  }
  SECTION("in a check whose interval is below the default timeout") {
    const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        interval: 5s
        http: { path: / }
)");
    const auto r = loadConfig(file);
    REQUIRE(r.diagnostics.errorCount() == 1);
    CHECK(r.diagnostics.items()[0].format() ==
          file + ":11:9: error: services[0].checks[0]: timeout 10s exceeds interval 5s");
  }
  SECTION("equal is fine") {
    const auto file = dir.write("agent.yaml", kHead + R"(    checks:
      - name: home
        interval: 5s
        timeout: 5s
        http: { path: / }
)");
    CHECK(loadConfig(file).ok());
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
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        file + ":5:7: error: services[0].hostnames." + missing + ": missing; list the " + missing +
            " hostnames, or write `" + missing + ": []` if there are none");
}

TEST_CASE("config loader: invalid YAML syntax reports a line", "[config]") {
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [a.yaml\nlisten: x\n");
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  const auto& d = r.diagnostics.items()[0];
  CHECK(d.where.file == file);
  CHECK(d.where.line >= 2);
  CHECK_THAT(d.format(), Catch::StartsWith(file + ":" + std::to_string(d.where.line) + ":"));
  CHECK_THAT(d.message, Catch::StartsWith("invalid YAML: "));
}

TEST_CASE("config loader: a file that cannot be read is an error", "[config]") {
  TempDir dir;
  const auto file = (dir.path() / "absent.yaml").string();
  const auto r = loadConfig(file);
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() == file + ": error: cannot read file");
}

TEST_CASE("config loader: an include that matches nothing is an error", "[config]") {
  const std::string pattern = GENERATE(as<std::string>{}, "missing.yaml", "conf.d/*.yaml");
  TempDir dir;
  const auto file = dir.write("agent.yaml", "environment: at\ninclude: [\"" + pattern + "\"]\n");
  const auto r = loadConfig(file);
  const auto all = formatted(r);
  CHECK_THAT(all, VectorContains(file + ":2:11: error: include[0]: \"" + pattern +
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
  REQUIRE(r.config.catalog.services.size() == 2);
  CHECK(r.config.catalog.services[0].name == "one");
  CHECK(r.config.catalog.services[1].name == "two");
  CHECK(r.config.catalog.services[1].where.file == b);
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
  const auto r = loadConfig(dir.write("agent.yaml", "environment: at\ninclude: [catalog/*.yaml]\n"));
  REQUIRE(r.diagnostics.errorCount() == 1);
  CHECK(r.diagnostics.items()[0].format() ==
        b + ":6:26: error: services[0].checks[0].http.methd: unknown key \"methd\" (did you mean "
            "\"method\"?); allowed here: scheme, port, method, path, headers, body, "
            "follow_redirects, max_redirects, body_limit, tls, expect");
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
  const auto all = formatted(r);
  INFO(Catch::Detail::stringify(all));
  CHECK(r.diagnostics.errorCount() == 6);
  std::vector<int> lines;
  for (const auto& d : r.diagnostics.items()) lines.push_back(d.where.line);
  CHECK(lines == std::vector<int>{2, 10, 11, 12, 14, 15});
}

TEST_CASE("config loader: the example configs load without errors", "[config]") {
  const std::string name = GENERATE(as<std::string>{}, "dev", "at", "prod");
  const auto r = loadConfig(std::string(ENVPROBE_SOURCE_DIR) + "/config/" + name + ".yaml");
  INFO(Catch::Detail::stringify(formatted(r)));
  REQUIRE(r.ok());
  CHECK(r.diagnostics.items().empty());
  CHECK(r.config.environment == name);
  REQUIRE(r.config.includes.size() == 1);
  CHECK_THAT(r.config.includes[0], Catch::EndsWith("/config/services.yaml"));
  CHECK(r.config.catalog.environments.size() == 3);
  CHECK(r.config.catalog.services.size() == 3);
  CHECK(r.config.defaults.interval == 30s);
  CHECK(r.config.defaults.timeout == 10s);
  CHECK(r.config.dns.servers.size() == (name == "prod" ? 2u : 0u));
}
