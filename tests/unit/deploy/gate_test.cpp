// The promotion gate, decided from series and their kept transitions on a fixed clock.
#include <catch2/catch.hpp>

#include "probe/catalog/target.hpp"
#include "probe/deploy/gate.hpp"

using namespace envprobe;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kWindow = 20'000;

SeriesState series(std::string hostname, bool up, std::string visibility = "public") {
  SeriesState s;
  s.targetId = "at/shop/home/" + visibility + "/" + hostname;
  s.service = "shop";
  s.hostname = std::move(hostname);
  s.visibility = std::move(visibility);
  s.success = up;
  s.probes = 1;
  if (!up) {
    s.reason = Reason::HttpStatus;
    s.detail = "status 503 not in [200-299]";
    s.downSinceUnix = (kNow - 5000) / 1000;
  }
  return s;
}

HistoryTransition at(const SeriesState& s, std::int64_t ms, bool up) {
  HistoryTransition t;
  t.series = seriesKey(s.targetId, s.address);
  t.unixMs = ms;
  t.up = up;
  if (!up) {
    t.reason = "http_status";
    t.detail = "status 503";
  }
  return t;
}

struct Rig {
  std::vector<SeriesState> all;
  std::map<std::string, std::vector<HistoryTransition>> kept;
  std::map<std::string, std::int64_t> first;
  void add(SeriesState s, std::vector<std::pair<std::int64_t, bool>> history) {
    const std::string key = seriesKey(s.targetId, s.address);
    for (const auto& [ms, up] : history) kept[key].push_back(at(s, ms, up));
    if (!history.empty()) first[key] = history.front().first;
    all.push_back(std::move(s));
  }
  GateResult ask(GateQuery q = {}) {
    if (q.windowMs == 0) q.windowMs = kWindow;
    return evaluateGate(q, all, kept, first, kNow);
  }
};

}  // namespace

TEST_CASE("green for the whole window passes", "[deploy][gate]") {
  Rig rig;
  rig.add(series("a", true), {{kNow - 60'000, true}});
  const auto r = rig.ask();
  CHECK(r.pass);
  CHECK(r.matched == 1);
}

TEST_CASE("history shorter than the window is insufficient unless partial is allowed",
          "[deploy][gate]") {
  Rig rig;
  rig.add(series("a", true), {{kNow - 5'000, true}});
  auto r = rig.ask();
  CHECK_FALSE(r.pass);
  REQUIRE(r.failing.size() == 1);
  CHECK(r.failing[0].insufficientHistory);
  CHECK(r.failing[0].reason == "insufficient history");
  CHECK(r.failing[0].detail == "observed for 5s of the window's 20s");
  GateQuery partial;
  partial.allowPartial = true;
  CHECK(rig.ask(partial).pass);
}

TEST_CASE("down now fails with its reason; down earlier in the window fails for how long",
          "[deploy][gate]") {
  Rig rig;
  rig.add(series("now", false), {{kNow - 60'000, true}, {kNow - 5'000, false}});
  rig.add(series("earlier", true),
          {{kNow - 60'000, true}, {kNow - 15'000, false}, {kNow - 12'000, true}});
  rig.add(series("before", true),
          {{kNow - 60'000, true}, {kNow - 40'000, false}, {kNow - 30'000, true}});
  const auto r = rig.ask();
  CHECK_FALSE(r.pass);
  CHECK(r.matched == 3);
  REQUIRE(r.failing.size() == 2);
  CHECK(r.failing[0].series->hostname == "now");  // the longest failure first
  CHECK(r.failing[0].failedSeconds == Approx(5.0));
  CHECK(r.failing[0].reason == "http_status");
  CHECK(r.failing[0].detail == "status 503 not in [200-299]");
  CHECK(r.failing[1].series->hostname == "earlier");
  CHECK(r.failing[1].failedSeconds == Approx(3.0));
  CHECK(r.failing[1].reason == "http_status");
}

TEST_CASE("down now before the history caught up still fails, for the time since it went down",
          "[deploy][gate]") {
  Rig rig;
  rig.add(series("a", false), {{kNow - 60'000, true}});
  const auto r = rig.ask();
  REQUIRE(r.failing.size() == 1);
  CHECK(r.failing[0].failedSeconds == Approx(5.0));
}

TEST_CASE("filters by service and visibility; nothing matching does not pass", "[deploy][gate]") {
  Rig rig;
  rig.add(series("pub", false, "public"), {{kNow - 60'000, false}});
  rig.add(series("int", true, "internal"), {{kNow - 60'000, true}});
  GateQuery internal;
  internal.visibility = "internal";
  CHECK(rig.ask(internal).pass);
  GateQuery none;
  none.service = "cart";
  const auto r = rig.ask(none);
  CHECK(r.matched == 0);
  CHECK_FALSE(r.pass);
}

TEST_CASE("a listed target without a result is not green", "[deploy][gate]") {
  Rig rig;
  rig.add(series("a", true), {{kNow - 60'000, true}});
  SeriesState listed = series("b", false);
  listed.probes = 0;
  rig.add(listed, {});
  const auto r = rig.ask();
  CHECK_FALSE(r.pass);
  REQUIRE(r.failing.size() == 1);
  CHECK(r.failing[0].series->hostname == "b");
  CHECK(r.failing[0].reason == "not probed yet");
  CHECK(r.failing[0].insufficientHistory);
}

TEST_CASE("a window reaching past the kept history is insufficient", "[deploy][gate]") {
  Rig rig;
  // First seen long ago, but the rows before the window's last 5 s were pruned.
  rig.add(series("a", true), {{kNow - 5'000, true}});
  rig.first[seriesKey(rig.all[0].targetId, "")] = kNow - 3'600'000;
  const auto r = rig.ask();
  REQUIRE(r.failing.size() == 1);
  CHECK(r.failing[0].insufficientHistory);
  CHECK(r.failing[0].detail == "15s of the window are not in the kept history");
}
