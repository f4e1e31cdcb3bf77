// Change tracking: the first value of a fact is its baseline; a different value later is one
// change (old -> new) kept, exported and logged; values the history knew count as the baseline.
#include <catch2/catch.hpp>

#include "probe/deploy/change_tracker.hpp"
#include "probe/web/status_page.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;

namespace {

std::shared_ptr<const ProbeTarget> tracked(std::function<void(HttpCheckSpec&)> tweak = nullptr) {
  return makeTarget("shop.example.com", "", AddressMode::First, std::chrono::seconds(1),
                    [tweak](HttpCheckSpec& spec) {
                      spec.version.kind = ValueSource::Kind::Header;
                      spec.version.key = "X-Version";
                      if (tweak) tweak(spec);
                    });
}

ProbeResult result(std::shared_ptr<const ProbeTarget> target, std::string server,
                   std::string fingerprint, std::string version, std::int64_t ms) {
  ProbeResult r;
  r.target = std::move(target);
  r.observation = okResponse();
  r.observation.serverHeader = std::move(server);
  r.observation.resolvedAddress = "127.0.0.1";
  if (!fingerprint.empty()) {
    r.observation.tls.present = true;
    r.observation.tls.fingerprintSha256 = std::move(fingerprint);
    r.observation.tls.issuer = "CN=Test CA";
    r.observation.tls.lastChainExpiryUnix = 1'900'000'000;
  }
  r.verdict.ok = true;
  r.verdict.version = std::move(version);
  r.finishedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return r;
}

struct Rig {
  ProbeMetrics metrics;
  std::vector<RecordedChange> changes;
  std::map<std::string, std::map<std::string, std::string>> facts;
  std::unique_ptr<ChangeTracker> tracker;
  explicit Rig(std::map<std::string, std::map<std::string, std::string>> known = {}) {
    ChangeTracker::Store store;
    store.change = [this](const RecordedChange& c) { changes.push_back(c); };
    store.fact = [this](const std::string& series, const std::string& what,
                        const std::string& value, std::int64_t) { facts[series][what] = value; };
    tracker = std::make_unique<ChangeTracker>(metrics, store, std::move(known));
  }
  void feed(const ProbeResult& r) {
    metrics.record(r);
    tracker->onResult(r);
  }
};

}  // namespace

TEST_CASE("tracked facts: server, certificate, address and version by default; body only when asked",
          "[deploy][changes]") {
  auto facts = trackedFacts(result(tracked(), "nginx", "ab12", "1.4.2", 1000));
  std::map<std::string, std::string> byWhat(facts.begin(), facts.end());
  CHECK(byWhat["server"] == "nginx");
  CHECK(byWhat["certificate"] ==
        "sha256:ab12 issuer:CN=Test CA not_after:" + rfc3339(1'900'000'000));
  CHECK(byWhat["addresses"] == "127.0.0.1");
  CHECK(byWhat["version"] == "1.4.2");
  CHECK_FALSE(byWhat.contains("body"));

  auto withBody = tracked([](HttpCheckSpec& spec) { spec.track.add(Fact::Body); });
  auto r = result(withBody, "nginx", "", "1.4.2", 1000);
  r.verdict.bodySha256 = "ff00";
  facts = trackedFacts(r);
  byWhat = {facts.begin(), facts.end()};
  CHECK(byWhat["body"] == "sha256:ff00");
  CHECK_FALSE(byWhat.contains("certificate"));  // plain HTTP: no certificate
}

TEST_CASE("no response, no facts: a failed connection is not a change of server",
          "[deploy][changes]") {
  auto r = result(tracked(), "nginx", "", "1", 1000);
  r.observation.statusCode = 0;
  CHECK(trackedFacts(r).empty());
}

TEST_CASE("the first value is the baseline; a new value is one change, once", "[deploy][changes]") {
  Rig rig;
  auto target = tracked();
  rig.feed(result(target, "nginx", "aa", "1.4.2", 1000));
  CHECK(rig.changes.empty());
  rig.feed(result(target, "nginx", "aa", "1.4.2", 2000));
  CHECK(rig.changes.empty());
  rig.feed(result(target, "nginx/1.24", "bb", "1.4.2", 3000));
  rig.feed(result(target, "nginx/1.24", "bb", "1.4.2", 4000));
  REQUIRE(rig.changes.size() == 2);
  CHECK(rig.changes[0].what == "server");
  CHECK(rig.changes[0].oldValue == "nginx");
  CHECK(rig.changes[0].newValue == "nginx/1.24");
  CHECK(rig.changes[0].unixMs == 3000);
  CHECK(rig.changes[1].what == "certificate");
  const auto series = rig.metrics.snapshot();
  REQUIRE(series.size() == 1);
  CHECK(series[0].lastChange->byWhat.at("server") == 3);
  CHECK(series[0].lastChange->unixMs == 3000);
  const std::string key = seriesKey(target->target.id, "");
  CHECK(rig.facts[key]["server"] == "nginx/1.24");
}

TEST_CASE("facts the history kept are the baseline after a restart", "[deploy][changes]") {
  auto target = tracked();
  const std::string key = seriesKey(target->target.id, "");
  Rig rig({{key, {{"server", "nginx"}, {"version", "1.4.2"}}}});
  rig.feed(result(target, "nginx", "", "1.5.0", 1000));
  REQUIRE(rig.changes.size() == 1);
  CHECK(rig.changes[0].what == "version");
  CHECK(rig.changes[0].oldValue == "1.4.2");
  CHECK(rig.changes[0].newValue == "1.5.0");
}

TEST_CASE("hostile values are bounded and made valid UTF-8", "[deploy][changes]") {
  Rig rig;
  auto target = tracked();
  rig.feed(result(target, "a", "", "1", 1000));
  std::string hostile(5000, 'x');
  hostile.push_back('\xff');
  rig.feed(result(target, hostile, "", "1", 2000));
  REQUIRE(rig.changes.size() == 1);
  CHECK(rig.changes[0].newValue.size() <= ChangeTracker::kMaxValueBytes + 3);
}

TEST_CASE("a series removed and added again (a reload changed its target) keeps its baseline and last change",
          "[deploy][changes]") {
  Rig rig;
  auto target = tracked();
  rig.feed(result(target, "a", "", "1", 1000));
  rig.feed(result(target, "b", "", "1", 2000));
  REQUIRE(rig.changes.size() == 1);
  rig.tracker->onSeriesRemoved(target->target, "");
  rig.metrics.removeSeries(target->target.id, "");
  rig.feed(result(target, "c", "", "1", 3000));
  REQUIRE(rig.changes.size() == 2);
  CHECK(rig.changes[1].oldValue == "b");
  const auto series = rig.metrics.snapshot();
  REQUIRE(series.size() == 1);
  CHECK(series[0].lastChange->newValue == "c");
  CHECK(series[0].lastChange->byWhat.at("server") == 3);
}

TEST_CASE("a series removed keeps its last change for when it comes back", "[deploy][changes]") {
  Rig rig;
  auto target = tracked();
  rig.feed(result(target, "a", "", "1", 1000));
  rig.feed(result(target, "b", "", "1", 2000));
  rig.metrics.removeSeries(target->target.id, "");
  rig.feed(result(target, "b", "", "1", 3000));
  const auto series = rig.metrics.snapshot();
  REQUIRE(series.size() == 1);
  CHECK(series[0].lastChange->what == "server");
  CHECK(series[0].lastChange->newValue == "b");
}
