// Reload as a diff of session sets, in simulated time: what an unchanged target keeps, what a
// changed one restarts, what a removed one resolves, when an added one first runs; readiness.
#include <catch2/catch.hpp>

#include <algorithm>

#include "probe/engine/session_table.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;
using namespace std::chrono_literals;

namespace {

struct TableRig {
  ManualTimers timers;
  FakeResolver resolver{timers};
  FakeHttp http{timers};
  InlineJudge judge{timers};
  ProbeIo io{timers, resolver, http, judge};
  RecordingSink sink;
  int readyCalls = 0;
  std::size_t awaiting = 0;
  SessionTable table;

  explicit TableRig(std::size_t cap = 16)
      : table(io, SchedulerOptions{0.0, cap, 1}, observer()) {
    http.respond = [](const HttpRequest&) -> std::optional<Observation> { return okResponse(); };
    table.addSink(sink);
  }
  SessionTableObserver observer() {
    SessionTableObserver o;
    o.ready = [this] { ++readyCalls; };
    o.awaitingFirstRun = [this](std::size_t n) { awaiting = n; };
    return o;
  }
  std::size_t resultsFor(const std::string& id) const {
    return std::count_if(sink.results.begin(), sink.results.end(),
                         [&](const ProbeResult& r) { return r.target->target.id == id; });
  }
};

using Targets = std::vector<std::shared_ptr<const ProbeTarget>>;

}  // namespace

TEST_CASE("reload: an unchanged target keeps its slot, its run in flight and its series") {
  TableRig rig;
  auto a = makeTarget("a.at.local", "127.0.0.1:80");
  rig.table.add(a);
  rig.table.start();
  rig.timers.advance(10s);
  REQUIRE(rig.resultsFor(a->target.id) == 1);

  // Hold the next run in flight across the reload.
  rig.http.respond = [](const HttpRequest&) { return std::optional<Observation>{}; };
  for (int i = 0; i < 200 && rig.http.live() == 0; ++i) rig.timers.advance(50ms);
  REQUIRE(rig.http.live() == 1);

  // The same definition loaded again: a new object, equal values.
  auto again = makeTarget("a.at.local", "127.0.0.1:80");
  const TargetDiff diff = rig.table.reconcile(Targets{again});
  CHECK(diff.unchanged == std::vector<std::string>{a->target.id});
  CHECK(rig.http.live() == 1);   // the run in flight was not cancelled
  CHECK(rig.sink.removed.empty());  // no series removed, so no alert resolved
  CHECK(rig.table.inflight() == 1);
}

TEST_CASE("reload: a changed target restarts, a removed one retires, an added one runs at its phase") {
  TableRig rig;
  auto kept = makeTarget("kept.at.local", "127.0.0.1:80");
  auto changing = makeTarget("changing.at.local", "127.0.0.1:80");
  auto leaving = makeTarget("leaving.at.local", "127.0.0.1:80");
  for (const auto& t : {kept, changing, leaving}) rig.table.add(t);
  rig.table.start();
  rig.timers.advance(10s);
  REQUIRE(rig.sink.results.size() == 3);
  rig.sink.results.clear();

  auto changed = makeTarget("changing.at.local", "127.0.0.1:80", AddressMode::First, 1s,
                            [](HttpCheckSpec& spec) { spec.path = "/health"; });
  auto added = makeTarget("added.at.local", "127.0.0.1:80");
  const TargetDiff diff =
      rig.table.reconcile(Targets{makeTarget("kept.at.local", "127.0.0.1:80"), changed, added});
  CHECK(diff.unchanged == std::vector<std::string>{kept->target.id});
  CHECK(diff.changed == std::vector<std::string>{changing->target.id});
  CHECK(diff.removed == std::vector<std::string>{leaving->target.id});
  CHECK(diff.added == std::vector<std::string>{added->target.id});
  // The leaving target's and the changed target's old series are removed (alerts resolve).
  std::vector<std::string> removed = rig.sink.removed;
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<std::string>{changing->target.id + "|127.0.0.1:80",
                                            leaving->target.id + "|127.0.0.1:80"});
  CHECK(rig.table.size() == 3);

  // Nothing runs at once: the added target waits for its phase within its interval.
  rig.timers.advance(1ms);
  CHECK(rig.sink.results.empty());
  rig.timers.advance(10s);
  CHECK(rig.resultsFor(kept->target.id) == 1);
  CHECK(rig.resultsFor(added->target.id) == 1);
  CHECK(rig.resultsFor(changing->target.id) == 1);
  CHECK(rig.resultsFor(leaving->target.id) == 0);
  // The changed target probes with its new definition.
  const auto it = std::find_if(rig.sink.results.begin(), rig.sink.results.end(),
                               [&](const ProbeResult& r) { return r.target == changed; });
  CHECK(it != rig.sink.results.end());
}

TEST_CASE("readiness: once, at start; the first round's progress is counted down") {
  TableRig rig(1);  // a cap of one: the first round takes a while
  for (const char* name : {"a.at.local", "b.at.local", "c.at.local"})
    rig.table.add(makeTarget(name, "127.0.0.1:80"));
  CHECK_FALSE(rig.table.ready());
  CHECK(rig.awaiting == 3);
  rig.table.start();
  // Ready as soon as every target is loaded and has its slot, before any run started.
  CHECK(rig.table.ready());
  CHECK(rig.readyCalls == 1);
  CHECK(rig.table.awaitingFirstRun() == 3);
  rig.timers.advance(10s);
  CHECK(rig.awaiting == 0);
  CHECK(rig.table.awaitingFirstRun() == 0);
  // A target added by a reload is counted until its first run; readiness stays.
  rig.table.reconcile(Targets{makeTarget("d.at.local", "127.0.0.1:80")});
  CHECK(rig.awaiting == 1);
  rig.timers.advance(20s);
  CHECK(rig.awaiting == 0);
  CHECK(rig.table.ready());
  CHECK(rig.readyCalls == 1);
}

TEST_CASE("readiness: a target removed before its first run is no longer awaited") {
  TableRig rig;
  rig.table.add(makeTarget("a.at.local", "127.0.0.1:80"));
  rig.table.add(makeTarget("b.at.local", "127.0.0.1:80"));
  CHECK(rig.awaiting == 2);
  rig.table.remove(makeTarget("b.at.local", "127.0.0.1:80")->target.id);
  CHECK(rig.awaiting == 1);
}

TEST_CASE("readiness: an empty table is ready once started") {
  TableRig rig;
  CHECK_FALSE(rig.table.ready());
  rig.table.start();
  CHECK(rig.table.ready());
  CHECK(rig.readyCalls == 1);
}

TEST_CASE("readiness: replacing a target that has not run yet never reports the round as done") {
  TableRig rig;
  std::vector<std::size_t> seen;
  SessionTableObserver o;
  o.awaitingFirstRun = [&seen](std::size_t n) { seen.push_back(n); };
  SessionTable table(rig.io, SchedulerOptions{0.0, 16, 1}, o);
  table.add(makeTarget("b.at.local", "127.0.0.1:80"));
  seen.clear();
  // A reload changes b before its first run: the old session goes, the new one is awaited.
  table.reconcile(Targets{makeTarget("b.at.local", "127.0.0.1:80", AddressMode::First, 1s,
                                     [](HttpCheckSpec& spec) { spec.path = "/health"; })});
  CHECK(std::find(seen.begin(), seen.end(), 0u) == seen.end());
  CHECK(table.awaitingFirstRun() == 1);
}
