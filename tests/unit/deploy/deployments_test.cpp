// Expected versions: announcements turn passing probes that serve another version into
// version_mismatch once converge_within has passed; convergence says who serves what.
#include <catch2/catch.hpp>

#include "probe/deploy/deployments.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;

namespace {

constexpr std::int64_t kAnnounced = 1'800'000'000'000;  // unix ms

std::shared_ptr<const ProbeTarget> versioned(const std::string& hostname,
                                             const std::string& service = "shop") {
  auto prepared = makeTarget(hostname, "", AddressMode::First, std::chrono::seconds(1),
                             [](HttpCheckSpec& spec) {
                               spec.version.kind = ValueSource::Kind::Json;
                               spec.version.key = "build.version";
                             });
  auto copy = std::make_shared<ProbeTarget>(*prepared);
  copy->target.service = service;
  return copy;
}

ProbeResult passing(std::shared_ptr<const ProbeTarget> target, const std::string& version,
                    std::int64_t finishedMs) {
  ProbeResult r;
  r.target = std::move(target);
  r.observation = okResponse();
  r.verdict.ok = true;
  r.verdict.version = version;
  r.finishedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(finishedMs));
  return r;
}

struct Rig {
  std::int64_t now = kAnnounced;
  Deployments deployments{[this] { return now; }};
  Rig() { deployments.announce({"shop", "1.5.0", kAnnounced, 60'000}); }
};

}  // namespace

TEST_CASE("a probe serving another version passes until converge_within has passed",
          "[deploy]") {
  Rig rig;
  auto r = passing(versioned("shop.example.com"), "1.4.2", kAnnounced + 59'999);
  rig.deployments.amend(r);
  CHECK(r.verdict.ok);
  r = passing(versioned("shop.example.com"), "1.4.2", kAnnounced + 60'000);
  rig.deployments.amend(r);
  CHECK_FALSE(r.verdict.ok);
  CHECK(r.verdict.reason == Reason::VersionMismatch);
  CHECK(r.verdict.detail ==
        "serves \"1.4.2\", expected \"1.5.0\" (announced 1m ago, converge_within 1m)");
}

TEST_CASE("the announced version passes; no version at all is a mismatch", "[deploy]") {
  Rig rig;
  auto r = passing(versioned("a"), "1.5.0", kAnnounced + 120'000);
  rig.deployments.amend(r);
  CHECK(r.verdict.ok);
  r = passing(versioned("a"), "", kAnnounced + 120'000);
  rig.deployments.amend(r);
  CHECK(r.verdict.reason == Reason::VersionMismatch);
  CHECK(r.verdict.detail.starts_with("serves no version, expected \"1.5.0\""));
}

TEST_CASE("failures keep their own reason; other services and unversioned checks are left alone",
          "[deploy]") {
  Rig rig;
  auto failing = passing(versioned("a"), "1.4.2", kAnnounced + 120'000);
  failing.verdict.ok = false;
  failing.verdict.reason = Reason::HttpStatus;
  rig.deployments.amend(failing);
  CHECK(failing.verdict.reason == Reason::HttpStatus);

  auto other = passing(versioned("a", "cart"), "0.1", kAnnounced + 120'000);
  rig.deployments.amend(other);
  CHECK(other.verdict.ok);

  auto unversioned = passing(makeTarget("a"), "", kAnnounced + 120'000);
  rig.deployments.amend(unversioned);
  CHECK(unversioned.verdict.ok);
}

TEST_CASE("a new announcement replaces the service's; restore brings back stored ones",
          "[deploy]") {
  Rig rig;
  rig.deployments.announce({"shop", "1.6.0", kAnnounced + 1000, 0});
  REQUIRE(rig.deployments.expected("shop"));
  CHECK(rig.deployments.expected("shop")->version == "1.6.0");
  Deployments restored([] { return kAnnounced; });
  restored.restore(rig.deployments.all());
  CHECK(restored.expected("shop")->version == "1.6.0");
  CHECK_FALSE(restored.expected("cart"));
}

TEST_CASE("convergence: every versioned series probed since the announcement serves it",
          "[deploy]") {
  const ExpectedVersion expected{"shop", "1.5.0", kAnnounced, 60'000};
  auto series = [](std::string hostname, std::string version, std::int64_t probedMs,
                   bool tracked = true, std::string service = "shop") {
    SeriesState s;
    s.service = std::move(service);
    s.hostname = std::move(hostname);
    s.version = std::move(version);
    s.lastProbeUnixMs = probedMs;
    s.versionTracked = tracked;
    return s;
  };
  std::vector<SeriesState> all = {series("a", "1.5.0", kAnnounced + 10),
                                  series("b", "1.5.0", kAnnounced - 10),
                                  series("c", "", kAnnounced + 10, false),
                                  series("d", "1.4.2", kAnnounced + 10, true, "cart")};
  Convergence c = convergence(expected, all);
  REQUIRE(c.rows.size() == 2);
  CHECK(c.rows[0].matches);
  CHECK_FALSE(c.rows[1].probedSinceAnnouncement);  // serves it, but not seen since
  CHECK_FALSE(c.converged);
  all[1].lastProbeUnixMs = kAnnounced + 20;
  CHECK(convergence(expected, all).converged);
  all[0].version = "1.4.2";
  CHECK_FALSE(convergence(expected, all).converged);
  CHECK_FALSE(convergence({"nothing", "1", kAnnounced, 0}, all).converged);
}
