// The agent file's alerting and maintenance sections, the Alertmanager request body, and the
// loader rules added for hostnames and names.
#include <catch2/catch.hpp>
#include <string>

#include "probe/alerting/delivery/alertmanager_client.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "probe/base/duration.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::loadConfig;
using envprobe::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

const std::string kCatalog = R"(environments: { at: { tier: nonprod } }
services:
  - name: shop
    hostnames: { internal: ["shop.{env}.test"], public: [] }
    checks: [ { name: home, http: { scheme: http } } ]
)";

std::string allErrors(const envprobe::LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics.items()) out += d.format() + "\n";
  return out;
}

}  // namespace

TEST_CASE("alerting config: keys load into the settings", "[alerting]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n"
                                         "alerting:\n"
                                         "  alertmanagers: [\"http://127.0.0.1:9093\"]\n"
                                         "  failure_threshold: 4\n"
                                         "  success_threshold: 1\n"
                                         "  resend_interval: 30s\n"
                                         "  escalate_after: 12h\n"
                                         "  labels:\n"
                                         "    nonprod: { severity: ticket, priority: P5 }\n"
                                         "    services: { shop: { team: web } }\n" +
                                             kCatalog);
  const auto r = loadConfig(file);
  INFO(allErrors(r));
  REQUIRE(r.ok());
  const auto& a = r.config.alerting;
  CHECK(a.alertmanagers == std::vector<std::string>{"http://127.0.0.1:9093"});
  CHECK(a.failureThreshold == 4);
  CHECK(a.successThreshold == 1);
  CHECK(a.resendInterval == std::chrono::seconds(30));
  CHECK(a.escalateAfter == std::chrono::hours(12));
  CHECK(a.policy.nonprod.at("priority") == "P5");
  CHECK(a.policy.byService.at("shop").at("team") == "web");
}

TEST_CASE("alerting config: a maintenance window without an end is an error", "[alerting]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n"
                                         "maintenance:\n"
                                         "  windows:\n"
                                         "    - name: patching\n"
                                         "      match: { service: shop }\n"
                                         "      start: \"2026-11-22T01:00:00Z\"\n" +
                                             kCatalog);
  const auto r = loadConfig(file);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(allErrors(r), Contains("at.yaml:4:7: error: maintenance.windows[0]: a maintenance "
                                    "window must end"));
}

TEST_CASE("alerting config: a window longer than the maximum is an error", "[alerting]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n"
                                         "maintenance:\n"
                                         "  windows:\n"
                                         "    - match: { service: shop }\n"
                                         "      start: \"2026-11-22T01:00:00Z\"\n"
                                         "      duration: 48h\n" +
                                             kCatalog);
  const auto r = loadConfig(file);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(allErrors(r), Contains("maintenance.windows[0]"));
}

TEST_CASE("alerting config: bad values name file, line and key", "[alerting]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n"
                                         "alerting:\n"
                                         "  alertmanagers: [\"127.0.0.1:9093\"]\n"
                                         "  failure_treshold: 3\n"
                                         "maintenance:\n"
                                         "  windows:\n"
                                         "    - match: { service: shop }\n"
                                         "      start: \"yesterday\"\n"
                                         "      duration: 1h\n"
                                         "      weekly: [funday]\n" +
                                             kCatalog);
  const auto errors = allErrors(loadConfig(file));
  CHECK_THAT(errors, Contains("at.yaml:3:19: error: alerting.alertmanagers[0]: expected an "
                              "http:// or https:// URL"));
  CHECK_THAT(errors, Contains("at.yaml:4:3: error: alerting.failure_treshold: unknown key"));
  CHECK_THAT(errors, Contains("(did you mean \"failure_threshold\"?)"));
  CHECK_THAT(errors, Contains("at.yaml:8:14: error: maintenance.windows[0].start: invalid time"));
  CHECK_THAT(errors, Contains("maintenance.windows[0].weekly[0]: expected a weekday"));
}

TEST_CASE("alerting config: hostnames, check names and the environment are checked", "[config]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: \"\"\n"
                                         "environments: { at: { tier: nonprod } }\n"
                                         "services:\n"
                                         "  - name: shop\n"
                                         "    hostnames:\n"
                                         "      internal: [\"https://shop.test/x\", a.test, a.test]\n"
                                         "      public: []\n"
                                         "    checks: [ { name: \"a/b\", http: { scheme: http } } ]\n");
  const auto errors = allErrors(loadConfig(file));
  CHECK_THAT(errors, Contains("at.yaml:1:14: error: environment: must not be empty"));
  CHECK_THAT(errors, Contains("services[0].hostnames.internal[0]: invalid hostname"));
  CHECK_THAT(errors, Contains("services[0].checks[0].name: a check name uses letters"));
}

TEST_CASE("alertmanager client: the v2 body carries labels, annotations and RFC 3339 times",
          "[alerting]") {
  envprobe::OutgoingAlert alert;
  alert.labels = {{"alertname", "ProbeFailed"}, {"env", "at"}};
  alert.annotations = {{"summary", "shop failing"}};
  alert.startsAt = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  alert.endsAt = alert.startsAt + std::chrono::milliseconds(1500);
  alert.generatorUrl = "http://agent:9470/?service=shop";
  const std::string body = envprobe::alertsToJson({alert});
  CHECK(body ==
        R"([{"annotations":{"summary":"shop failing"},"endsAt":"2023-11-14T22:13:21.500Z",)"
        R"("generatorURL":"http://agent:9470/?service=shop","labels":{"alertname":"ProbeFailed",)"
        R"("env":"at"},"startsAt":"2023-11-14T22:13:20.000Z"}])");
  CHECK(envprobe::alertFingerprint(alert.labels) != envprobe::alertFingerprint({{"env", "at"}}));
}

TEST_CASE("duration: limits reject overflow-sized values", "[config]") {
  CHECK_FALSE(envprobe::parseDuration("1000000d").has_value());
  CHECK(envprobe::parseDuration("365d").has_value());
  CHECK_FALSE(envprobe::parseByteSize("17179869185GiB").has_value());
  CHECK(envprobe::parseByteSize("1GiB") == (1LL << 30));
}

TEST_CASE("alerting config: an Alertmanager listed twice is an error", "[alerting]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n"
                                         "alerting:\n"
                                         "  alertmanagers: [\"http://am:9093\", \"http://am:9093\"]\n" +
                                             kCatalog);
  CHECK_THAT(allErrors(loadConfig(file)),
             Contains("at.yaml:3:37: error: alerting.alertmanagers[1]: \"http://am:9093\" is "
                      "listed twice"));
}
