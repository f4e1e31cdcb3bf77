// The compact form of a series' facts: texts shared between series, and the plain value given
// back whole.
#include <catch2/catch.hpp>
#include <string>

#include "probe/metrics/probe_metrics.hpp"
#include "probe/metrics/stored_facts.hpp"
#include "tests/unit/metrics/synthetic_series.hpp"

TEST_CASE("stored facts: series behind one server share its texts; the value is whole",
          "[stored_facts]") {
  envprobe::ProbeMetrics metrics;
  auto r1 = envprobe::testing::syntheticResult(1);
  auto r2 = envprobe::testing::syntheticResult(2);
  r1.observation.serverHeader = r2.observation.serverHeader = "nginx/1.22.1";
  r1.verdict.detail = r2.verdict.detail = "status 503 not in [200-299]";
  metrics.record(r1);
  metrics.record(r2);
  {
    const auto snapshot = metrics.exposedSnapshot();
    REQUIRE(snapshot.size() == 2);
    CHECK(&snapshot[0]->state.serverHeader.str() == &snapshot[1]->state.serverHeader.str());
    CHECK(&snapshot[0]->state.detail.str() == &snapshot[1]->state.detail.str());
  }
  const auto values = metrics.snapshot();
  for (const auto& v : values) {
    CHECK(v.serverHeader == "nginx/1.22.1");
    CHECK(v.detail == "status 503 not in [200-299]");
    CHECK((v.resolvedAddress == "192.0.2.1" || v.resolvedAddress == "192.0.2.2"));
    CHECK(v.lastProbeUnix == v.lastProbeUnixMs / 1000);
    CHECK(v.lastProbeUnix > 0);
    CHECK(v.probes == 1);
  }
  // A text that changes is the new one; the other series keeps its own.
  r1.observation.serverHeader = "nginx/1.25.0";
  r1.verdict.detail.clear();
  metrics.record(r1);
  for (const auto& v : metrics.snapshot()) {
    const bool first = v.targetId == r1.target->target.id;
    CHECK(v.serverHeader == (first ? "nginx/1.25.0" : "nginx/1.22.1"));
    CHECK(v.detail == (first ? "" : "status 503 not in [200-299]"));
  }
}
