// Every number and duration of the config has a range (probe/config/config_limits.hpp), and
// regexes are refused at load time when RE2 would run them slowly (checks/regex_budget.hpp).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/config/load_result_support.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::LoadResult;
using envprobe::loadConfig;
using envprobe::testing::TempDir;
using envprobe::testing::formatted;
using envprobe::testing::onlyError;
using envprobe::testing::requireClean;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace std::chrono_literals;

namespace {

// An agent file: `top` from line 2, then a catalog whose one check is `check` (from line 8 on
// when `top` is empty).
std::string agentFile(const TempDir& dir, const std::string& top, const std::string& check) {
  std::string head = "environment: at\n" + top;
  head += "environments: { at: { tier: nonprod } }\nservices:\n  - name: web\n"
          "    hostnames: { internal: [web.local], public: [] }\n    checks:\n"
          "      - name: home\n";
  return dir.write("agent.yaml", head + check);
}

std::string agentKeys(const TempDir& dir, const std::string& top) {
  return agentFile(dir, top, "        http: { path: / }\n");
}

}  // namespace

TEST_CASE("config ranges: durations out of range name their range", "[config]") {
  TempDir dir;
  const auto [key, value, range] = GENERATE(table<std::string, std::string, std::string>({
      {"dns: { timeout: ", "30d",
       "dns.timeout: duration \"30d\" is out of range: expected 1ms to 1m"},
      {"dns: { timeout: ", "1000000h", "dns.timeout: duration \"1000000h\" is out of range"},
      {"dns: { timeout: ", "2m", "expected 1ms to 1m"},
      {"defaults: { interval: ", "50ms", "defaults.interval: duration \"50ms\" is out of range: "
                                         "expected 100ms to 24h"},
      {"defaults: { interval: ", "2d", "expected 100ms to 24h"},
      {"defaults: { timeout: ", "5ms", "defaults.timeout: duration \"5ms\" is out of range: "
                                       "expected 10ms to 1h"},
      {"alerting: { resend_interval: ", "500ms", "expected 1s to 1h"},
      {"alerting: { escalate_after: ", "31d", "expected 1m to 720h"},
      {"maintenance: { max_length: ", "400d", "maintenance.max_length: duration \"400d\" is out"},
  }));
  INFO(key << value);
  const auto file = agentKeys(dir, key + value + " }\n");
  const std::string error = onlyError(loadConfig(file));
  CHECK_THAT(error, StartsWith(file + ":2:"));
  CHECK_THAT(error, Contains(range));
}

TEST_CASE("config ranges: the bounds themselves are accepted", "[config]") {
  TempDir dir;
  const auto r = loadConfig(agentKeys(dir, "dns: { timeout: 1m, tries: 10 }\n"
                                           "defaults: { interval: 24h, timeout: 1h }\n"
                                           "scheduler: { max_inflight: 100000 }\n"));
  INFO(Catch::Detail::stringify(formatted(r)));
  REQUIRE(r.ok());
  CHECK(r.config.dns.timeout == 1min);
  CHECK(r.config.defaults.interval == 24h);
}

TEST_CASE("config ranges: a check's durations, port and sizes", "[config]") {
  TempDir dir;
  const auto [check, where] = GENERATE(table<std::string, std::string>({
      {"        interval: 10ms\n        http: { path: / }\n",
       ":8:19: error: services[0].checks[0].interval: duration \"10ms\" is out of range: "
       "expected 100ms to 24h"},
      {"        http: { port: 0 }\n",
       ":8:23: error: services[0].checks[0].http.port: expected an integer from 1 to 65535"},
      {"        http: { port: \" 443\" }\n", ":8:23: error: services[0].checks[0].http.port"},
      {"        http: { port: \"+443\" }\n", ":8:23: error: services[0].checks[0].http.port"},
      {"        http: { max_redirects: 51 }\n",
       ":8:32: error: services[0].checks[0].http.max_redirects: expected an integer from 0 to 50"},
      {"        http: { body_limit: 2GiB }\n",
       ":8:29: error: services[0].checks[0].http.body_limit: size \"2GiB\" is out of range: "
       "expected 1 byte to 1GiB"},
      {"        http: { body_limit: 1073741825 }\n",
       ":8:29: error: services[0].checks[0].http.body_limit: size \"1073741825\" is out of range"},
      {"        http: { expect: { max_duration: 2h } }\n",
       ":8:41: error: services[0].checks[0].http.expect.max_duration: duration \"2h\" is out of "
       "range: expected 1ms to 1h"},
  }));
  INFO(check);
  const auto file = agentFile(dir, "", check);
  CHECK_THAT(onlyError(loadConfig(file)), StartsWith(file + where));
}

TEST_CASE("config ranges: integers of the agent file", "[config]") {
  TempDir dir;
  const auto [top, message] = GENERATE(table<std::string, std::string>({
      {"dns: { tries: 11 }\n", "dns.tries: expected an integer from 1 to 10, got \"11\""},
      {"dns: { tries: 0 }\n", "dns.tries: expected an integer from 1 to 10, got \"0\""},
      {"scheduler: { max_inflight: 100001 }\n", "expected an integer from 1 to 100000"},
      {"scheduler: { max_inflight: 99999999999999999999 }\n", "expected an integer from 1 to"},
      {"alerting: { failure_threshold: 1001 }\n", "expected an integer from 1 to 1000"},
      {"alerting: { success_threshold: 0 }\n", "expected an integer from 1 to 1000"},
      {"alerting: { queue_capacity: 10000001 }\n", "expected an integer from 1 to 10000000"},
      {"scheduler: { jitter: 0.6 }\n", "scheduler.jitter: expected a number from 0"},
  }));
  const auto file = agentKeys(dir, top);
  const std::string error = onlyError(loadConfig(file));
  CHECK_THAT(error, StartsWith(file + ":2:"));
  CHECK_THAT(error, Contains(message));
}

TEST_CASE("config ranges: realistic regexes load", "[config]") {
  TempDir dir;
  const auto file = agentFile(dir, "", R"(        http:
          expect:
            body_regex: ["(?i)<title>Shop.*</title>", "[0-9a-f]{40}", "\\p{L}+",
                         "(?i)<title>[^<]{0,200}</title>", "\"version\":\\s*\"1\\.4\\.[0-9]+\""]
            headers: { Content-Type: "text/html.*", ETag: "\"[0-9a-f]{64}\"" }
)");
  const auto r = loadConfig(file);
  INFO(Catch::Detail::stringify(formatted(r)));
  CHECK(r.diagnostics.items().empty());
}

TEST_CASE("config ranges: a regex too costly for RE2's budget is refused", "[config]") {
  TempDir dir;
  const auto file = agentFile(dir, "", R"(        http:
          expect:
            body_regex: ["ok", "a.{1000}b"]
            headers: { X-Id: "[0-9a-f]{40}(-.{500})?" }
)");
  const auto all = formatted(loadConfig(file));
  REQUIRE(all.size() == 2);
  CHECK(all[0] == file + ":10:32: error: services[0].checks[0].http.expect.body_regex[1]: "
                         "pattern too costly: it compiles to 8006 RE2 instructions, more than the "
                         "limit of 2000, and would take seconds per large body; use shorter "
                         "repetitions like {n} with a small n, or .* instead of .{n} (pattern "
                         "\"a.{1000}b\")");
  CHECK_THAT(all[1], StartsWith(file + ":11:30: error: services[0].checks[0].http.expect."
                                       "headers.X-Id: pattern too costly: it compiles to "));
}

TEST_CASE("config ranges: a regex over RE2's memory budget is refused", "[config]") {
  TempDir dir;
  const auto file = agentFile(dir, "", R"yaml(        http:
          expect:
            body_regex: ["((((.{1000}){1000}){1000}){1000})"]
)yaml");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(file +
                        ":10:26: error: services[0].checks[0].http.expect.body_regex[0]: ") &&
                 (Contains("pattern too large") || Contains("invalid regex")));
}
