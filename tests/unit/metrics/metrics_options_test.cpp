// The agent file's `metrics:` section and what it turns off.
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <string>

#include "probe/config/yaml/config_loader.hpp"
#include "probe/metrics/agent_metrics.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::AgentMetrics;
using envprobe::MetricsSettings;
using envprobe::testing::TempDir;

namespace {

const char* kCatalog = R"(
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [web.local], public: [] }
    checks: [{ name: home, http: { path: / } }]
)";

envprobe::LoadResult load(const std::string& metrics) {
  TempDir dir;
  return envprobe::loadConfig(
      dir.write("agent.yaml", "environment: at\n" + metrics + kCatalog));
}

std::string errors(const envprobe::LoadResult& loaded) {
  std::string out;
  for (const auto& d : loaded.diagnostics.items()) out += d.format() + "\n";
  return out;
}

std::string exposition(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace

TEST_CASE("metrics options: both on by default", "[metrics_options]") {
  const auto loaded = load("");
  INFO(errors(loaded));
  REQUIRE(loaded.ok());
  CHECK(loaded.config.metrics.phases);
  CHECK(loaded.config.metrics.perServiceHistogram);
}

TEST_CASE("metrics options: read from metrics:", "[metrics_options]") {
  const auto loaded = load("metrics: { phases: false, per_service_histogram: false }\n");
  INFO(errors(loaded));
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded.config.metrics.phases);
  CHECK_FALSE(loaded.config.metrics.perServiceHistogram);
  const auto one = load("metrics: { per_service_histogram: false }\n");
  REQUIRE(one.ok());
  CHECK(one.config.metrics.phases);
  CHECK_FALSE(one.config.metrics.perServiceHistogram);
}

TEST_CASE("metrics options: unknown keys and wrong types are errors that say where",
          "[metrics_options]") {
  const auto unknown = load("metrics: { phase: false }\n");
  CHECK_FALSE(unknown.ok());
  CHECK_THAT(errors(unknown), Catch::Matchers::Contains("metrics.phase"));
  const auto wrongType = load("metrics: { phases: sometimes }\n");
  CHECK_FALSE(wrongType.ok());
  CHECK_THAT(errors(wrongType), Catch::Matchers::Contains("metrics.phases"));
  const auto notMap = load("metrics: [phases]\n");
  CHECK_FALSE(notMap.ok());
  CHECK_THAT(errors(notMap), Catch::Matchers::Contains("metrics"));
}

TEST_CASE("metrics options: per_service_histogram: false drops envprobe_probe_duration_seconds",
          "[metrics_options]") {
  prometheus::Registry with, without;
  AgentMetrics on(with, "at");
  MetricsSettings settings;
  settings.perServiceHistogram = false;
  AgentMetrics off(without, "at", settings);
  for (auto* m : {&on, &off}) {
    m->observeProbe("web", "home", "internal", 0.2, true);
    m->observeProbe("web", "home", "internal", 0.3, false);
  }
  const std::string full = exposition(with), cut = exposition(without);
  CHECK(full.find("envprobe_probe_duration_seconds_bucket{") != std::string::npos);
  CHECK(cut.find("envprobe_probe_duration_seconds") == std::string::npos);
  // The probe counters stay.
  CHECK(cut.find("envprobe_probes_total{result=\"success\"} 1") != std::string::npos);
  CHECK(cut.find("envprobe_probes_total{result=\"failure\"} 1") != std::string::npos);
}
