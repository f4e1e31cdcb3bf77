// Sessions and the session table in simulated time: one owner per target, series that follow
// DNS, removal that resolves, shutdown that cancels.
#include <catch2/catch.hpp>

#include <algorithm>

#include "probe/engine/session_table.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;
using namespace std::chrono_literals;

namespace {

// Counts the runs that finished; a listener that must never hear fails the test when it does.
struct Finished final : RunListener {
  explicit Finished(bool mustNotHear = false) : mustNotHear(mustNotHear) {}
  void runFinished(TargetSession&) override {
    ++count;
    if (mustNotHear) FAIL("a cancelled run must not complete");
  }
  bool mustNotHear;
  int count = 0;
};

struct Rig {
  ManualTimers timers;
  FakeResolver resolver{timers};
  FakeHttp http{timers};
  InlineJudge judge{timers};
  ProbeIo io{timers, resolver, http, judge};
  RecordingSink sink;
  SessionOutputs sinks{{&sink}};

  Rig() {
    http.respond = [](const HttpRequest&) -> std::optional<Observation> { return okResponse(); };
  }
  void runOnce(TargetSession& session) {
    Finished finished;
    session.startRun(io, finished);
    timers.advance(2s);
    REQUIRE(finished.count == 1);
  }
};

std::vector<std::string> addressesOf(const std::vector<ProbeResult>& results) {
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(r.address);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("session: an address that leaves DNS loses its series; a DNS failure lands on the known ones") {
  Rig rig;
  auto target = makeTarget("shop.at.local", "", AddressMode::All);
  TargetSession session(target, 1, rig.sinks);

  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.1", "10.0.0.2"});
  rig.runOnce(session);
  CHECK(addressesOf(rig.sink.results) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});

  rig.sink.results.clear();
  rig.resolver.answers["shop.at.local"] = dnsError(TransportError::DnsServfail, "servfail");
  rig.runOnce(session);
  // Reported on both known addresses, no address-less series, nothing removed.
  CHECK(addressesOf(rig.sink.results) == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(std::all_of(rig.sink.results.begin(), rig.sink.results.end(),
                    [](const ProbeResult& r) { return r.verdict.reason == Reason::DnsServfail; }));
  CHECK(rig.sink.removed.empty());

  rig.sink.results.clear();
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.2"});
  rig.runOnce(session);
  CHECK(addressesOf(rig.sink.results) == std::vector<std::string>{"10.0.0.2"});
  CHECK(rig.sink.removed == std::vector<std::string>{target->target.id + "|10.0.0.1"});
}

TEST_CASE("session: a name that never resolved fails on one series, dropped once it resolves") {
  Rig rig;
  auto target = makeTarget("shop.at.local", "", AddressMode::All);
  TargetSession session(target, 1, rig.sinks);
  rig.resolver.answers["shop.at.local"] = dnsError(TransportError::DnsNxdomain, "nxdomain");
  rig.runOnce(session);
  CHECK(addressesOf(rig.sink.results) == std::vector<std::string>{""});
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.3"});
  rig.runOnce(session);
  CHECK(rig.sink.removed == std::vector<std::string>{target->target.id + "|"});
}

TEST_CASE("session: retire removes every series; destruction cancels without removing") {
  Rig rig;
  auto target = makeTarget("shop.at.local", "", AddressMode::All);
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.1", "10.0.0.2"});
  {
    TargetSession session(target, 1, rig.sinks);
    rig.runOnce(session);
    rig.http.respond = [](const HttpRequest&) { return std::optional<Observation>{}; };
    Finished never(true);
    session.startRun(rig.io, never);
    rig.timers.advance(100ms);
    CHECK(rig.http.live() == 2);
  }
  CHECK(rig.http.live() == 0);
  CHECK(rig.sink.removed.empty());

  TargetSession session(target, 2, rig.sinks);
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> { return okResponse(); };
  rig.runOnce(session);
  session.retire();
  std::sort(rig.sink.removed.begin(), rig.sink.removed.end());
  CHECK(rig.sink.removed == std::vector<std::string>{target->target.id + "|10.0.0.1",
                                                      target->target.id + "|10.0.0.2"});
}

TEST_CASE("session table: schedules, removes, and stops with runs in flight") {
  Rig rig;
  SessionTable table(rig.io, SchedulerOptions{0.0, 16, 1});
  table.addSink(rig.sink);
  auto a = makeTarget("a.at.local", "127.0.0.1:80");
  auto b = makeTarget("b.at.local", "127.0.0.1:80");
  table.add(a);
  table.add(b);
  table.start();
  rig.timers.advance(10s);  // one interval: each target ran once
  CHECK(rig.sink.results.size() == 2);

  table.remove(a->target.id);
  CHECK(rig.sink.removed == std::vector<std::string>{a->target.id + "|127.0.0.1:80"});
  CHECK(table.size() == 1);
  rig.sink.results.clear();
  rig.timers.advance(10s);
  REQUIRE(rig.sink.results.size() == 1);
  CHECK(rig.sink.results[0].target->target.id == b->target.id);

  rig.http.respond = [](const HttpRequest&) { return std::optional<Observation>{}; };
  for (int i = 0; i < 200 && rig.http.live() == 0; ++i) rig.timers.advance(100ms);
  CHECK(table.inflight() == 1);
  table.stop();
  CHECK(table.inflight() == 0);
  CHECK(rig.http.live() == 0);
  rig.sink.results.clear();
  rig.timers.advance(60s);
  CHECK(rig.sink.results.empty());  // nothing runs after stop
  CHECK(rig.timers.pendingTimers() == 0);
}

TEST_CASE("session table: runOnce probes every target once, in-flight cap respected") {
  Rig rig;
  SessionTable table(rig.io, SchedulerOptions{0.0, 2, 1});
  table.addSink(rig.sink);
  for (const char* name : {"a.at.local", "b.at.local", "c.at.local", "d.at.local", "e.at.local"})
    table.add(makeTarget(name, "127.0.0.1:80"));
  bool done = false;
  table.runOnce([&] { done = true; });
  rig.timers.advance(5ms);
  CHECK(rig.http.live() <= 2);
  rig.timers.advance(1s);
  CHECK(done);
  CHECK(rig.sink.results.size() == 5);
}

TEST_CASE("session: the amender decides on each result before any sink sees it") {
  struct FailEverything : ResultAmender {
    void amend(ProbeResult& result) override {
      result.verdict.ok = false;
      result.verdict.reason = Reason::VersionMismatch;
    }
  } amender;
  Rig rig;
  rig.sinks.amender = &amender;
  auto target = makeTarget("shop.at.local", "10.0.0.9:80");
  TargetSession session(target, 1, rig.sinks);
  rig.runOnce(session);
  REQUIRE(rig.sink.results.size() == 1);
  CHECK_FALSE(rig.sink.results[0].verdict.ok);
  CHECK(rig.sink.results[0].verdict.reason == Reason::VersionMismatch);
}
