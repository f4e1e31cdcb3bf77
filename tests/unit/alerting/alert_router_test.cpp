// The alert router in simulated time: thresholds, removal resolves, maintenance holds and
// releases, all through the Timers seam and a fake wall clock. No sockets, no sleeps.
#include <catch2/catch.hpp>

#include <prometheus/registry.h>

#include "probe/alerting/delivery/alert_router.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;
using namespace std::chrono_literals;

namespace {

class RecordingSender : public AlertSender {
 public:
  std::vector<OutgoingAlert> sent;
  void send(const std::vector<OutgoingAlert>& alerts) override {
    sent.insert(sent.end(), alerts.begin(), alerts.end());
  }
  std::size_t queued() const override { return 0; }
  std::size_t firing() const {
    std::size_t n = 0;
    for (const auto& a : sent) n += !a.resolved;
    return n;
  }
  std::size_t resolved() const {
    std::size_t n = 0;
    for (const auto& a : sent) n += a.resolved;
    return n;
  }
};

struct Rig {
  ManualTimers timers;
  SystemTime wall = SystemTime(std::chrono::hours(24 * 365 * 56));  // 2026-ish
  AgentConfig config;
  prometheus::Registry registry;
  RecordingSender sender;
  std::unique_ptr<AlertRouter> router;
  std::shared_ptr<const ProbeTarget> target = makeTarget("shop.at.local", "127.0.0.1:80");

  void start() {
    config.alerting.alertmanagers = {"http://am"};
    router = std::make_unique<AlertRouter>(std::make_shared<const AgentConfig>(config), timers, sender, registry, [this] { return wall; });
  }
  // A config reload: the router gets the rig's config as it is now.
  void reload() { router->reconfigure(std::make_shared<const AgentConfig>(config)); }
  // A 30-minute window for the shop service that began a minute ago.
  void addPatchingWindow() {
    MaintenanceWindow window;
    window.name = "patching";
    window.service = "shop";
    window.start = wall - 1min;
    window.duration = 30min;
    config.maintenance.push_back(window);
  }
  void advance(std::chrono::milliseconds d) {
    wall += d;
    timers.advance(d);
  }
  void probe(bool ok) {
    ProbeResult r;
    r.target = target;
    r.address = target->target.backend;
    r.verdict.ok = ok;
    r.verdict.reason = ok ? Reason::None : Reason::HttpStatus;
    r.verdict.detail = ok ? "" : "status 500 not in [200-299]";
    r.finishedAt = wall;
    router->onResult(r);
  }
};

}  // namespace

TEST_CASE("alert router: fires at the threshold; removing the target resolves it", "[alerting]") {
  Rig rig;
  rig.start();
  rig.probe(false);
  rig.advance(10s);
  rig.probe(false);
  rig.advance(10s);
  CHECK(rig.sender.sent.empty());
  rig.probe(false);  // the third consecutive failure
  REQUIRE(rig.sender.firing() == 1);
  CHECK(rig.sender.sent[0].labels.at("hostname") == "shop.at.local");
  CHECK(rig.sender.sent[0].labels.at("address") == "127.0.0.1:80");

  rig.router->onSeriesRemoved(rig.target->target, "127.0.0.1:80");
  REQUIRE(rig.sender.resolved() == 1);
  const OutgoingAlert& resolved = rig.sender.sent.back();
  CHECK(resolved.resolved);
  CHECK(resolved.endsAt == rig.wall);
}

TEST_CASE("alert router: a maintenance window holds the alert; it fires when the window ends",
          "[alerting]") {
  Rig rig;
  rig.addPatchingWindow();
  rig.start();
  for (int i = 0; i < 3; ++i) {
    rig.probe(false);
    rig.advance(10s);
  }
  CHECK(rig.sender.firing() == 0);  // held: probing goes on, the page does not
  rig.advance(25min);  // 25.5 of the window's 29 remaining minutes
  CHECK(rig.sender.firing() == 0);
  rig.advance(4min);  // the window ended; housekeeping notices within a second
  CHECK(rig.sender.firing() == 1);
}

TEST_CASE("alert router: recovery resolves after the success threshold; resends keep firing",
          "[alerting]") {
  Rig rig;
  rig.start();
  for (int i = 0; i < 3; ++i) rig.probe(false);
  REQUIRE(rig.sender.firing() == 1);
  rig.advance(61s);  // resend_interval 1m: the housekeeping timer re-sends
  CHECK(rig.sender.firing() == 2);
  rig.probe(true);
  CHECK(rig.sender.resolved() == 0);
  rig.probe(true);
  CHECK(rig.sender.resolved() == 1);
}

TEST_CASE("alert router: a reload keeps a firing alert firing, neither re-fired nor resolved",
          "[alerting]") {
  Rig rig;
  rig.start();
  for (int i = 0; i < 3; ++i) rig.probe(false);
  REQUIRE(rig.sender.firing() == 1);
  for (int reload = 0; reload < 3; ++reload) {
    rig.reload();
    rig.probe(false);
    rig.advance(10s);
  }
  CHECK(rig.sender.firing() == 1);  // 30 s: no resend due yet, and no new alert
  CHECK(rig.sender.resolved() == 0);
  // A new success threshold applies to the state the target already has.
  rig.config.alerting.successThreshold = 1;
  rig.reload();
  rig.probe(true);
  CHECK(rig.sender.resolved() == 1);
}

TEST_CASE("alert router: a maintenance window added by a reload holds the next resend",
          "[alerting]") {
  Rig rig;
  rig.start();
  for (int i = 0; i < 3; ++i) rig.probe(false);
  REQUIRE(rig.sender.firing() == 1);
  rig.addPatchingWindow();
  rig.reload();
  rig.advance(5min);
  CHECK(rig.sender.firing() == 1);  // resends held while the window is on
  rig.config.maintenance.clear();
  rig.reload();
  rig.advance(1s);  // parked sends are re-checked every second
  CHECK(rig.sender.firing() == 2);
}
