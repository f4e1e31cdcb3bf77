#include "probe/alerting/alert_tracker.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using envprobe::AlertSettings;
using envprobe::AlertSubject;
using envprobe::AlertTracker;
using envprobe::LabelMap;
using envprobe::ProbeOutcome;
using envprobe::SystemTime;
using envprobe::Tier;
using namespace std::chrono_literals;

namespace {

// A fixed origin far from the epoch; the tests never read a real clock.
const SystemTime kT0 = SystemTime(std::chrono::hours(24 * 20000));

AlertSubject atSubject() {
  AlertSubject s;
  s.key = "shop/home/shop-at.example.com";
  s.env = "at";
  s.tier = Tier::NonProd;
  s.service = "shop";
  s.check = "home";
  s.hostname = "shop-at.example.com";
  s.visibility = "public";
  s.probeInterval = 30s;
  return s;
}

AlertSubject prodSubject() {
  AlertSubject s = atSubject();
  s.key = "shop/home/shop.example.com";
  s.env = "prod";
  s.tier = Tier::Prod;
  s.hostname = "shop.example.com";
  return s;
}

const ProbeOutcome kFail{false, "http_status", "HTTP 400 Invalid Hostname", 400};
const ProbeOutcome kPass{true, "", "", 200};

bool never(const AlertSubject&) { return false; }

// Three failures at `at`: the default threshold, so the alert starts firing at `at`.
void fire(AlertTracker& tracker, const AlertSubject& subject, SystemTime at) {
  for (int i = 0; i < 3; ++i) tracker.observe(subject, kFail, at);
}

}  // namespace

TEST_CASE("alert tracker: fires only after the failure threshold") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  tracker.observe(s, kFail, kT0);
  tracker.observe(s, kFail, kT0 + 30s);
  CHECK_FALSE(tracker.firing(s.key));
  CHECK(tracker.due(kT0 + 30s, never).empty());
  CHECK(tracker.nextDue() == std::nullopt);

  tracker.observe(s, kFail, kT0 + 60s);
  CHECK(tracker.firing(s.key));
  const auto sent = tracker.due(kT0 + 60s, never);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0].resolved);
  CHECK(sent[0].startsAt == kT0 + 60s);
}

TEST_CASE("alert tracker: a success between failures resets the count") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  tracker.observe(s, kFail, kT0);
  tracker.observe(s, kFail, kT0 + 30s);
  tracker.observe(s, kPass, kT0 + 60s);
  CHECK(tracker.trackedCount() == 0);  // passing again: no state kept
  tracker.observe(s, kFail, kT0 + 90s);
  tracker.observe(s, kFail, kT0 + 120s);
  CHECK_FALSE(tracker.firing(s.key));
  tracker.observe(s, kFail, kT0 + 150s);
  CHECK(tracker.firing(s.key));
}

TEST_CASE("alert tracker: passing targets keep no state") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  for (int i = 0; i < 100; ++i) tracker.observe(s, kPass, kT0 + i * 30s);
  CHECK(tracker.trackedCount() == 0);
  CHECK(tracker.due(kT0 + 1h, never).empty());
}

TEST_CASE("alert tracker: thresholds are configurable") {
  AlertSettings settings;
  settings.failureThreshold = 1;
  settings.successThreshold = 1;
  AlertTracker tracker{settings};
  const auto s = atSubject();
  tracker.observe(s, kFail, kT0);
  CHECK(tracker.firing(s.key));
  tracker.observe(s, kPass, kT0 + 30s);
  CHECK_FALSE(tracker.firing(s.key));
}

TEST_CASE("alert tracker: resolves after the success threshold") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  fire(tracker, s, kT0);
  REQUIRE(tracker.due(kT0, never).size() == 1);

  tracker.observe(s, kPass, kT0 + 30s);
  tracker.observe(s, kFail, kT0 + 60s);  // resets the success count
  tracker.observe(s, kPass, kT0 + 90s);
  CHECK(tracker.firing(s.key));
  tracker.observe(s, kPass, kT0 + 120s);
  CHECK_FALSE(tracker.firing(s.key));

  const auto sent = tracker.due(kT0 + 120s, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].resolved);
  CHECK(sent[0].startsAt == kT0);
  CHECK(sent[0].endsAt == kT0 + 120s);
}

TEST_CASE("alert tracker: resends every resend interval with a stable startsAt") {
  AlertTracker tracker{AlertSettings{}};
  auto s = atSubject();
  fire(tracker, s, kT0);
  auto sent = tracker.due(kT0, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].endsAt == kT0 + 4min);  // 4 x max(30s, 1m)
  CHECK(tracker.nextDue() == kT0 + 1min);

  tracker.observe(s, kFail, kT0 + 30s);
  CHECK(tracker.due(kT0 + 30s, never).empty());

  sent = tracker.due(kT0 + 1min, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].startsAt == kT0);
  CHECK(sent[0].endsAt == kT0 + 5min);

  // A longer probe interval stretches endsAt so the alert survives between probes.
  s.probeInterval = 5min;
  tracker.observe(s, kFail, kT0 + 90s);
  sent = tracker.due(kT0 + 2min, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].startsAt == kT0);
  CHECK(sent[0].endsAt == kT0 + 2min + 20min);
}

TEST_CASE("alert tracker: resolved alert is re-sent for the retention period, then forgotten") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  fire(tracker, s, kT0);
  tracker.due(kT0, never);
  const SystemTime resolvedAt = kT0 + 10min;
  tracker.observe(s, kPass, resolvedAt - 30s);
  tracker.observe(s, kPass, resolvedAt);

  for (int minute = 0; minute < 15; ++minute) {
    INFO("minute " << minute);
    const auto sent = tracker.due(resolvedAt + minute * 1min, never);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].resolved);
    CHECK(sent[0].endsAt == resolvedAt);
    CHECK(sent[0].startsAt == kT0);
  }
  CHECK(tracker.due(resolvedAt + 15min, never).empty());
  CHECK(tracker.trackedCount() == 0);
  CHECK(tracker.nextDue() == std::nullopt);
}

TEST_CASE("alert tracker: firing again after resolution starts a new alert") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  fire(tracker, s, kT0);
  tracker.due(kT0, never);
  tracker.observe(s, kPass, kT0 + 1min);
  tracker.observe(s, kPass, kT0 + 2min);
  tracker.due(kT0 + 2min, never);
  fire(tracker, s, kT0 + 5min);
  const auto sent = tracker.due(kT0 + 5min, never);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0].resolved);
  CHECK(sent[0].startsAt == kT0 + 5min);
}

TEST_CASE("alert tracker: non-prod escalates on time with raised labels") {
  AlertSettings settings;
  settings.resendInterval = 7min;  // does not divide 24h: escalation must not wait for a resend
  AlertTracker tracker{settings};
  const auto s = atSubject();
  fire(tracker, s, kT0);
  // Follow nextDue() the way the agent's loop would, until the escalation goes out.
  SystemTime now = kT0;
  auto escalation = tracker.due(now, never);
  while (escalation.size() == 1) {
    REQUIRE(tracker.nextDue());
    now = *tracker.nextDue();
    REQUIRE(now <= kT0 + 24h);
    escalation = tracker.due(now, never);
  }
  CHECK(now == kT0 + 24h);
  REQUIRE(escalation.size() == 2);
  const LabelMap& base = escalation[0].labels;
  const LabelMap& raised = escalation[1].labels;
  CHECK(base.at("priority") == "P4");
  CHECK(base.count("escalated") == 0);
  CHECK(raised.at("priority") == "P3");
  CHECK(raised.at("escalated") == "true");
  CHECK(raised.at("severity") == "ticket");
  CHECK(raised.at("queue") == "nonprod");
  CHECK(escalation[1].startsAt == kT0);
  CHECK(tracker.firingByEnvSeverity().at({"at", "ticket"}) == 1);

  // Both keep being re-sent and resolve together.
  CHECK(tracker.due(kT0 + 24h + 7min, never).size() == 2);
  tracker.observe(s, kPass, kT0 + 24h + 8min);
  tracker.observe(s, kPass, kT0 + 24h + 9min);
  const auto resolved = tracker.due(kT0 + 24h + 9min, never);
  REQUIRE(resolved.size() == 2);
  CHECK(resolved[0].resolved);
  CHECK(resolved[1].resolved);
  CHECK(resolved[1].labels.at("escalated") == "true");
}

TEST_CASE("alert tracker: prod never escalates") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = prodSubject();
  fire(tracker, s, kT0);
  for (int minute = 0; minute <= 48 * 60; minute += 60) {
    const auto sent = tracker.due(kT0 + minute * 1min, never);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].labels.at("severity") == "page");
    CHECK(sent[0].labels.at("priority") == "P1");
    CHECK(sent[0].labels.count("escalated") == 0);
  }
}

TEST_CASE("alert tracker: escalation can be switched off") {
  AlertSettings off;
  off.escalateAfter = 0ms;
  AlertSettings noLabels;
  noLabels.policy.escalated.clear();  // nothing to raise: no duplicate alert either
  for (const auto& settings : {off, noLabels}) {
    AlertTracker tracker{settings};
    fire(tracker, atSubject(), kT0);
    CHECK(tracker.due(kT0, never).size() == 1);
    CHECK(tracker.due(kT0 + 25h, never).size() == 1);
  }
}

TEST_CASE("alert tracker: policy labels merge tier, environment and service") {
  envprobe::AlertPolicy policy;
  CHECK(policyLabels(policy, Tier::Prod, "prod", "shop", false) ==
        LabelMap{{"severity", "page"}, {"priority", "P1"}});
  CHECK(policyLabels(policy, Tier::NonProd, "at", "shop", false) ==
        LabelMap{{"severity", "ticket"}, {"priority", "P4"}, {"queue", "nonprod"}});

  policy.byEnvironment["dev"] = {{"queue", "dev-queue"}, {"priority", "P5"}};
  policy.byService["shop"] = {{"priority", "P2"}, {"team", "web"}};
  policy.byService["legacy"] = {{"queue", ""}};  // empty value drops the label
  CHECK(policyLabels(policy, Tier::NonProd, "dev", "shop", false) ==
        LabelMap{
            {"severity", "ticket"}, {"priority", "P2"}, {"queue", "dev-queue"}, {"team", "web"}});
  CHECK(policyLabels(policy, Tier::NonProd, "dev", "cart", false).at("priority") == "P5");
  CHECK(policyLabels(policy, Tier::NonProd, "at", "legacy", false).count("queue") == 0);
  // Escalation goes over the overrides.
  CHECK(policyLabels(policy, Tier::NonProd, "dev", "shop", true).at("priority") == "P3");
}

TEST_CASE("alert tracker: labels carry identity and policy; policy cannot change identity") {
  AlertSettings settings;
  settings.policy.byService["shop"] = {{"env", "elsewhere"}, {"team", "web"}};
  AlertTracker tracker{settings};
  auto s = atSubject();
  s.address = "10.0.1.5:443";
  fire(tracker, s, kT0);
  const auto sent = tracker.due(kT0, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].labels == LabelMap{{"alertname", "ProbeFailed"},
                                   {"env", "at"},
                                   {"service", "shop"},
                                   {"check", "home"},
                                   {"hostname", "shop-at.example.com"},
                                   {"visibility", "public"},
                                   {"address", "10.0.1.5:443"},
                                   {"severity", "ticket"},
                                   {"priority", "P4"},
                                   {"queue", "nonprod"},
                                   {"team", "web"}});

  AlertTracker plain{AlertSettings{}};
  fire(plain, atSubject(), kT0);
  CHECK(plain.due(kT0, never).at(0).labels.count("address") == 0);
}

TEST_CASE("alert tracker: annotations and URL templates") {
  AlertSettings settings;
  settings.runbookUrlTemplate = "https://wiki.example.com/runbooks/{service}#{check}";
  settings.dashboardUrlTemplate =
      "https://grafana.example.com/d/"
      "probes?var-env={env}&var-host={hostname}&v={visibility}&x={nope}";
  AlertTracker tracker{settings};
  auto s = atSubject();
  s.service = "shop cart";
  fire(tracker, s, kT0);
  const auto sent = tracker.due(kT0, never);
  REQUIRE(sent.size() == 1);
  const auto& notes = sent[0].annotations;
  CHECK(
      notes.at("summary") ==
      "shop cart/home: public hostname shop-at.example.com failing in at: http_status (HTTP 400)");
  CHECK(notes.at("description") == "HTTP 400 Invalid Hostname");
  CHECK(notes.at("runbook_url") == "https://wiki.example.com/runbooks/shop%20cart#home");
  CHECK(notes.at("dashboard_url") ==
        "https://grafana.example.com/d/probes?var-env=at&var-host=shop-at.example.com&v=public"
        "&x={nope}");

  AlertTracker bare{AlertSettings{}};
  fire(bare, atSubject(), kT0);
  const auto plain = bare.due(kT0, never).at(0).annotations;
  CHECK(plain.count("runbook_url") == 0);
  CHECK(plain.count("dashboard_url") == 0);
}

TEST_CASE("alert tracker: summary names the address and omits a missing status") {
  auto s = atSubject();
  s.address = "10.0.1.5:443";
  CHECK(envprobe::alertSummary(s, ProbeOutcome{false, "connect", "refused", 0}) ==
        "shop/home: public hostname shop-at.example.com via 10.0.1.5:443 failing in at: connect");
  CHECK(envprobe::urlEncode("a b/c?d=é") == "a%20b%2Fc%3Fd%3D%C3%A9");
  CHECK(envprobe::urlEncode("Az09-._~") == "Az09-._~");
}

TEST_CASE("alert tracker: generatorURL points at the status page for the service") {
  AlertSettings settings;
  settings.externalUrl = "http://probe-at.example.com:9115/";
  AlertTracker tracker{settings};
  auto s = atSubject();
  s.service = "shop&cart";
  fire(tracker, s, kT0);
  CHECK(tracker.due(kT0, never).at(0).generatorUrl ==
        "http://probe-at.example.com:9115/?service=shop%26cart");

  AlertTracker bare{AlertSettings{}};
  fire(bare, atSubject(), kT0);
  CHECK(bare.due(kT0, never).at(0).generatorUrl.empty());
}

TEST_CASE("alert tracker: forget resolves a firing target and drops a failing one") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  fire(tracker, s, kT0);
  tracker.due(kT0, never);
  tracker.forget(s.key, kT0 + 10s);
  CHECK_FALSE(tracker.firing(s.key));
  const auto sent = tracker.due(kT0 + 10s, never);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].resolved);
  CHECK(sent[0].endsAt == kT0 + 10s);

  const auto p = prodSubject();
  tracker.observe(p, kFail, kT0);
  tracker.forget(p.key, kT0 + 1s);
  tracker.forget("unknown", kT0 + 1s);
  tracker.observe(p, kFail, kT0 + 2s);
  tracker.observe(p, kFail, kT0 + 3s);
  CHECK_FALSE(tracker.firing(p.key));  // the count started over
}

TEST_CASE("alert tracker: firing counts by environment and severity") {
  AlertTracker tracker{AlertSettings{}};
  fire(tracker, atSubject(), kT0);
  fire(tracker, prodSubject(), kT0);
  auto other = prodSubject();
  other.key = "shop/home/www.example.com";
  fire(tracker, other, kT0);
  tracker.observe(envprobe::AlertSubject{atSubject()}, kPass, kT0);  // one success: still firing
  const auto counts = tracker.firingByEnvSeverity();
  CHECK(counts.size() == 2);
  CHECK(counts.at({"at", "ticket"}) == 1);
  CHECK(counts.at({"prod", "page"}) == 2);
}

TEST_CASE("alert tracker: maintenance holds a new alert and releases it at the end") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  const SystemTime windowEnd = kT0 + 30min;
  const auto held = [&](SystemTime now) {
    return [now, windowEnd](const AlertSubject&) { return now < windowEnd; };
  };
  fire(tracker, s, kT0 + 1min);
  CHECK(tracker.due(kT0 + 1min, held(kT0 + 1min)).empty());
  CHECK(tracker.firing(s.key));  // counted, just not sent
  CHECK(tracker.heldCount() == 1);
  CHECK(tracker.firingByEnvSeverity().at({"at", "ticket"}) == 1);
  for (auto t = kT0 + 2min; t < windowEnd; t += 1min) {
    tracker.observe(s, kFail, t);
    CHECK(tracker.due(t, held(t)).empty());
  }
  const auto sent = tracker.due(windowEnd, held(windowEnd));
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].startsAt == kT0 + 1min);
  CHECK(sent[0].endsAt == windowEnd + 4min);
  CHECK(tracker.heldCount() == 0);
  CHECK(tracker.nextDue() == windowEnd + 1min);
}

TEST_CASE("alert tracker: a firing alert is not re-sent during a window") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  bool inWindow = false;
  const auto held = [&](const AlertSubject&) { return inWindow; };
  fire(tracker, s, kT0);
  REQUIRE(tracker.due(kT0, held).size() == 1);
  inWindow = true;
  for (int minute = 1; minute <= 10; ++minute)
    CHECK(tracker.due(kT0 + minute * 1min, held).empty());
  inWindow = false;
  const auto sent = tracker.due(kT0 + 10min + 30s, held);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].startsAt == kT0);
}

TEST_CASE("alert tracker: a resolution during a window is still sent") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  bool inWindow = false;
  const auto held = [&](const AlertSubject&) { return inWindow; };
  fire(tracker, s, kT0);
  REQUIRE(tracker.due(kT0, held).size() == 1);
  inWindow = true;
  CHECK(tracker.due(kT0 + 1min, held).empty());
  tracker.observe(s, kPass, kT0 + 90s);
  tracker.observe(s, kPass, kT0 + 2min);
  const auto sent = tracker.due(kT0 + 2min, held);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].resolved);
  CHECK(sent[0].endsAt == kT0 + 2min);
  CHECK(tracker.heldCount() == 0);
}

TEST_CASE("alert tracker: an alert that fires and resolves inside a window is never sent") {
  AlertTracker tracker{AlertSettings{}};
  const auto s = atSubject();
  const auto held = [](const AlertSubject&) { return true; };
  fire(tracker, s, kT0);
  CHECK(tracker.due(kT0, held).empty());
  tracker.observe(s, kPass, kT0 + 30s);
  tracker.observe(s, kPass, kT0 + 60s);
  CHECK(tracker.due(kT0 + 60s, held).empty());
  CHECK(tracker.trackedCount() == 0);
  CHECK(tracker.nextDue() == std::nullopt);
}

TEST_CASE("alert tracker: nextDue follows sends, resends and parked alerts") {
  AlertTracker tracker{AlertSettings{}};
  CHECK(tracker.nextDue() == std::nullopt);
  const auto s = atSubject();
  fire(tracker, s, kT0);
  CHECK(tracker.nextDue() == kT0);
  CHECK(tracker.due(kT0 - 1s, never).empty());  // nothing early
  tracker.due(kT0, never);
  CHECK(tracker.nextDue() == kT0 + 1min);

  const auto held = [](const AlertSubject&) { return true; };
  tracker.due(kT0 + 1min, held);  // parked; the first recheck may come at once
  tracker.due(kT0 + 1min, held);
  CHECK(tracker.nextDue() == kT0 + 1min + AlertTracker::kHeldRecheck);

  tracker.forget(s.key, kT0 + 2min);
  CHECK(tracker.nextDue() == kT0 + 2min);
}
