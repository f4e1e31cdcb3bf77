// The compact form of a series' facts: texts shared through a bounded pool, and the plain value
// given back whole.
#include <catch2/catch.hpp>
#include <string>

#include "probe/metrics/probe_metrics.hpp"
#include "probe/metrics/stored_facts.hpp"
#include "tests/unit/metrics/synthetic_series.hpp"

using envprobe::SharedText;
using envprobe::TextPool;

TEST_CASE("text pool: one copy of a text for every holder", "[stored_facts]") {
  TextPool pool;
  const SharedText none;
  const SharedText a = pool.intern("nginx/1.22.1", none);
  const SharedText b = pool.intern("nginx/1.22.1", none);
  CHECK(a.str() == "nginx/1.22.1");
  CHECK(&a.str() == &b.str());  // shared, not copied
  CHECK(pool.size() == 1);
  // The holder's own text when nothing changed; a new one when it did.
  CHECK(&pool.intern("nginx/1.22.1", a).str() == &a.str());
  const SharedText c = pool.intern("nginx/1.25.0", a);
  CHECK(c.str() == "nginx/1.25.0");
  CHECK(a.str() == "nginx/1.22.1");  // what others hold does not change
  // Empty: nothing held.
  const SharedText e = pool.intern("", c);
  CHECK(e.empty());
  CHECK(e.str().empty());
}

TEST_CASE("text pool: bounded in entries and in the size of what it keeps", "[stored_facts]") {
  TextPool pool;
  const SharedText none;
  const std::string big(TextPool::kMaxBytes + 1, 'x');
  const SharedText long1 = pool.intern(big, none);
  const SharedText long2 = pool.intern(big, none);
  CHECK(long1.str() == big);
  CHECK(&long1.str() != &long2.str());  // too long to keep: a copy each
  CHECK(pool.size() == 0);
  // A target that answers with a new Server header every time fills the pool once, no more.
  for (std::size_t i = 0; i < TextPool::kMaxEntries + 100; ++i) {
    const std::string text = "server-" + std::to_string(i);
    CHECK(pool.intern(text, none).str() == text);
  }
  CHECK(pool.size() == TextPool::kMaxEntries);
}

TEST_CASE("stored facts: series behind one server share its texts; the value is whole",
          "[stored_facts]") {
  envprobe::ProbeMetrics metrics;
  auto r1 = envprobe::testing::syntheticResult(1);
  auto r2 = envprobe::testing::syntheticResult(2);
  r1.observation.serverHeader = r2.observation.serverHeader = "nginx/1.22.1";
  r1.verdict.detail = r2.verdict.detail = "status 503 not in [200-299]";
  metrics.record(r1);
  metrics.record(r2);
  const auto snapshot = metrics.exposedSnapshot();
  REQUIRE(snapshot.size() == 2);
  CHECK(&snapshot[0]->state.serverHeader.str() == &snapshot[1]->state.serverHeader.str());
  CHECK(&snapshot[0]->state.detail.str() == &snapshot[1]->state.detail.str());
  const auto values = metrics.snapshot();
  for (const auto& v : values) {
    CHECK(v.serverHeader == "nginx/1.22.1");
    CHECK(v.detail == "status 503 not in [200-299]");
    CHECK((v.resolvedAddress == "192.0.2.1" || v.resolvedAddress == "192.0.2.2"));
    CHECK(v.lastProbeUnix == v.lastProbeUnixMs / 1000);
    CHECK(v.lastProbeUnix > 0);
    CHECK(v.probes == 1);
  }
}
