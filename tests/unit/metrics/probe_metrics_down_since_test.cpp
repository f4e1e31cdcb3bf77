// "Down since": set when a series goes down, kept while it stays down, 0 when up; a seed from
// the history replaces the first result's time when that result is down too.
#include <catch2/catch.hpp>

#include "probe/metrics/probe_metrics.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;

namespace {

ProbeResult at(const std::shared_ptr<const ProbeTarget>& target, bool ok, std::int64_t unix) {
  ProbeResult r;
  r.target = target;
  r.verdict.ok = ok;
  r.verdict.reason = ok ? Reason::None : Reason::Connect;
  r.finishedAt = std::chrono::system_clock::time_point(std::chrono::seconds(unix));
  return r;
}

std::int64_t downSince(const ProbeMetrics& metrics, const std::string& hostname) {
  for (const auto& s : metrics.snapshot())
    if (s.hostname == hostname) return s.downSinceUnix;
  FAIL("no series for " << hostname);
  return -1;
}

}  // namespace

TEST_CASE("probe metrics: down since follows the series' state", "[probe_metrics][history]") {
  ProbeMetrics metrics;
  const auto target = makeTarget("a.at.local");
  metrics.record(at(target, true, 100));
  CHECK(downSince(metrics, "a.at.local") == 0);
  metrics.record(at(target, false, 110));
  CHECK(downSince(metrics, "a.at.local") == 110);
  metrics.record(at(target, false, 120));
  CHECK(downSince(metrics, "a.at.local") == 110);
  metrics.record(at(target, true, 130));
  CHECK(downSince(metrics, "a.at.local") == 0);
  metrics.record(at(target, false, 140));
  CHECK(downSince(metrics, "a.at.local") == 140);
}

TEST_CASE("probe metrics: a seeded down-since survives a first result that is down",
          "[probe_metrics][history]") {
  ProbeMetrics metrics;
  const auto stillDown = makeTarget("down.at.local");
  const auto recovered = makeTarget("up.at.local");
  metrics.seedDownSince({{seriesKey(stillDown->target.id, ""), 50},
                         {seriesKey(recovered->target.id, ""), 60}});
  metrics.record(at(stillDown, false, 1000));
  metrics.record(at(recovered, true, 1000));
  CHECK(downSince(metrics, "down.at.local") == 50);
  CHECK(downSince(metrics, "up.at.local") == 0);
  // The seed is used once: after going up and down again, the new time counts.
  metrics.record(at(recovered, false, 1010));
  CHECK(downSince(metrics, "up.at.local") == 1010);
}
