#include "probe/schedule/scheduler.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using envprobe::DueRun;
using envprobe::Scheduler;
using envprobe::SchedulerOptions;
using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = Scheduler::TimePoint;

namespace {

// A fixed origin far from the clock's epoch; the tests never read a real clock.
const TimePoint kT0 = TimePoint(std::chrono::hours(1000));

SchedulerOptions options(double jitter, std::size_t maxInflight = 256, std::uint64_t seed = 1) {
  return SchedulerOptions{jitter, maxInflight, seed};
}

TimePoint firstSlot(const std::string& id, milliseconds interval, TimePoint added) {
  return added + milliseconds(Scheduler::phaseHash(id) % static_cast<std::uint64_t>(interval.count()));
}

}  // namespace

TEST_CASE("scheduler: phaseHash is FNV-1a 64") {
  CHECK(Scheduler::phaseHash("") == 0xcbf29ce484222325ULL);
  CHECK(Scheduler::phaseHash("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(Scheduler::phaseHash("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("scheduler: phase is stable for the same id") {
  const std::string id = "shop/home/shop.example.com";
  Scheduler a(options(0.0));
  Scheduler b(options(0.0, 256, 99));
  a.add(id, seconds(30), kT0);
  b.add(id, seconds(30), kT0 + seconds(7));
  const auto runA = a.popDue(kT0 + seconds(30));
  const auto runB = b.popDue(kT0 + seconds(37));
  REQUIRE(runA.size() == 1);
  REQUIRE(runB.size() == 1);
  CHECK(runA[0].scheduled == firstSlot(id, seconds(30), kT0));
  CHECK(runB[0].scheduled - runA[0].scheduled == seconds(7));  // same offset from add time
  CHECK(runA[0].due == runA[0].scheduled);                        // no jitter configured
}

TEST_CASE("scheduler: phases spread across ids") {
  Scheduler s(options(0.0, 100000));
  for (int i = 0; i < 1000; ++i) {
    s.add("svc-" + std::to_string(i) + "/check/host-" + std::to_string(i % 7) + ".example.com",
          seconds(10), kT0);
  }
  const auto runs = s.popDue(kT0 + seconds(10) - milliseconds(1));
  REQUIRE(runs.size() == 1000);
  std::vector<int> buckets(10, 0);
  for (const DueRun& run : runs) {
    const auto offset = run.scheduled - kT0;
    REQUIRE(offset >= milliseconds(0));
    REQUIRE(offset < seconds(10));
    ++buckets[static_cast<std::size_t>(offset / seconds(1))];
  }
  for (int count : buckets) CHECK(count <= 200);  // average is 100
}

TEST_CASE("scheduler: no drift over 1000 intervals with a late caller") {
  Scheduler s(options(0.1));
  const auto key = s.add("t", seconds(1), kT0);
  const TimePoint first = firstSlot("t", seconds(1), kT0);
  for (int n = 0; n < 1000; ++n) {
    const auto deadline = s.nextDeadline();
    REQUIRE(deadline);
    const TimePoint now = *deadline + milliseconds(300);  // late, and late again each time
    const auto runs = s.popDue(now);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].targetKey == key);
    REQUIRE(runs[0].scheduled == first + n * seconds(1));
    s.complete(key);
  }
  CHECK(s.skippedRuns() == 0);
}

TEST_CASE("scheduler: jitter is bounded and does not accumulate") {
  Scheduler s(options(0.5, 256, 42));
  const auto key = s.add("t", seconds(2), kT0);
  const TimePoint first = firstSlot("t", seconds(2), kT0);
  std::set<std::int64_t> offsets;
  std::chrono::nanoseconds total{0};
  const int kRuns = 2000;
  for (int n = 0; n < kRuns; ++n) {
    const auto runs = s.popDue(*s.nextDeadline());
    REQUIRE(runs.size() == 1);
    REQUIRE(runs[0].scheduled == first + n * seconds(2));
    const auto offset = runs[0].due - runs[0].scheduled;
    REQUIRE(offset >= std::chrono::nanoseconds(0));
    REQUIRE(offset < seconds(1));  // 0.5 * interval, exclusive
    offsets.insert(offset.count());
    total += offset;
    s.complete(key);
  }
  CHECK(offsets.size() > kRuns / 2);  // actually random, not a constant shift
  const auto mean = total / kRuns;
  CHECK(mean > milliseconds(400));
  CHECK(mean < milliseconds(600));
}

TEST_CASE("scheduler: jitter above 0.5 is clamped and the seed makes it reproducible") {
  auto dues = [](std::uint64_t seed) {
    Scheduler s(options(3.0, 256, seed));
    const auto key = s.add("t", seconds(1), kT0);
    std::vector<TimePoint> out;
    for (int n = 0; n < 50; ++n) {
      const auto runs = s.popDue(*s.nextDeadline());
      REQUIRE(runs.size() == 1);
      REQUIRE(runs[0].due - runs[0].scheduled < milliseconds(500));
      out.push_back(runs[0].due);
      s.complete(key);
    }
    return out;
  };
  CHECK(dues(7) == dues(7));
  CHECK(dues(7) != dues(8));
}

TEST_CASE("scheduler: a run whose previous run is in flight is skipped, not queued") {
  Scheduler s(options(0.0));
  const auto slow = s.add("slow", seconds(1), kT0);
  const auto fast = s.add("fast", seconds(1), kT0);
  const TimePoint slowFirst = firstSlot("slow", seconds(1), kT0);
  const TimePoint fastFirst = firstSlot("fast", seconds(1), kT0);

  REQUIRE(s.popDue(kT0 + seconds(1)).size() == 2);
  s.complete(fast);  // "slow" stays in flight

  const auto second = s.popDue(kT0 + seconds(2));
  REQUIRE(second.size() == 1);  // the slow target never delays the fast one
  CHECK(second[0].targetKey == fast);
  CHECK(second[0].scheduled == fastFirst + seconds(1));
  CHECK(s.skippedRuns() == 1);
  s.complete(fast);

  s.complete(slow);
  const auto third = s.popDue(kT0 + seconds(3));
  REQUIRE(third.size() == 2);
  for (const DueRun& run : third) {
    if (run.targetKey == slow) CHECK(run.scheduled == slowFirst + seconds(2));
  }
  CHECK(s.skippedRuns() == 1);
}

TEST_CASE("scheduler: in-flight cap holds and waiting runs are released in due order") {
  Scheduler s(options(0.0, 2));
  std::map<TimePoint, std::uint64_t> byDue;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "target-" + std::to_string(i);
    byDue[firstSlot(id, seconds(10), kT0)] = s.add(id, seconds(10), kT0);
  }
  REQUIRE(byDue.size() == 5);
  std::vector<std::uint64_t> expected;
  for (const auto& [due, key] : byDue) expected.push_back(key);

  TimePoint now = kT0 + seconds(10) - milliseconds(1);  // all five due, none expired
  std::vector<std::uint64_t> order;
  auto runs = s.popDue(now);
  REQUIRE(runs.size() == 2);
  CHECK(s.inflight() == 2);
  CHECK(s.waitingCount() == 3);
  CHECK(s.popDue(now).empty());  // no capacity, nothing more
  while (!runs.empty()) {
    for (const DueRun& run : runs) order.push_back(run.targetKey);
    s.complete(runs.front().targetKey);
    REQUIRE(s.nextDeadline());
    if (s.waitingCount() > 0) CHECK(*s.nextDeadline() <= now);  // capacity freed: work now
    runs = s.popDue(now);
    CHECK(runs.size() <= 1);
    CHECK(s.inflight() <= 2);
  }
  CHECK(order == expected);
  CHECK(s.skippedRuns() == 0);
}

TEST_CASE("scheduler: a waiting run still waiting at its next slot is skipped") {
  Scheduler s(options(0.0, 1));
  const auto hog = s.add("hog", seconds(100), kT0);
  const auto fast = s.add("fast", seconds(1), kT0);
  const TimePoint hogFirst = firstSlot("hog", seconds(100), kT0);
  const TimePoint fastFirst = firstSlot("fast", seconds(1), kT0);

  // Start the hog first so it holds the only slot.
  auto runs = s.popDue(hogFirst);
  while (runs.empty() || runs[0].targetKey != hog) {
    for (const DueRun& run : runs) s.complete(run.targetKey);
    runs = s.popDue(*s.nextDeadline());
  }
  const auto skippedBefore = s.skippedRuns();
  TimePoint fastSlot = fastFirst;
  while (fastSlot <= hogFirst) fastSlot += seconds(1);

  CHECK(s.popDue(fastSlot).empty());
  CHECK(s.waitingCount() == 1);
  CHECK(*s.nextDeadline() == fastSlot + seconds(1));  // the waiting run's expiry
  CHECK(s.popDue(fastSlot + seconds(1)).empty());     // expired: skipped, next run waits instead
  CHECK(s.skippedRuns() == skippedBefore + 1);
  CHECK(s.waitingCount() == 1);

  s.complete(hog);
  runs = s.popDue(fastSlot + seconds(1) + milliseconds(10));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].targetKey == fast);
  CHECK(runs[0].scheduled == fastSlot + seconds(1));  // the newer run, never both
}

TEST_CASE("scheduler: removing an in-flight or waiting target is safe") {
  Scheduler s(options(0.0, 1));
  const auto a = s.add("a", seconds(1), kT0);
  const auto b = s.add("b", seconds(1), kT0);
  auto runs = s.popDue(kT0 + seconds(1));
  REQUIRE(runs.size() == 1);
  const auto running = runs[0].targetKey;
  const auto other = running == a ? b : a;
  CHECK(s.waitingCount() == 1);

  s.remove(running);
  CHECK(s.inflight() == 0);
  CHECK(s.targetCount() == 1);
  s.complete(running);  // late completion of a removed target is ignored
  CHECK(s.inflight() == 0);

  runs = s.popDue(kT0 + seconds(1));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].targetKey == other);

  s.complete(other);
  s.complete(other);  // a double completion does not underflow
  CHECK(s.inflight() == 0);
  s.remove(other);
  s.remove(other);
  CHECK(s.targetCount() == 0);
  CHECK_FALSE(s.nextDeadline());
  CHECK(s.popDue(kT0 + seconds(100)).empty());

  Scheduler w(options(0.0, 1));
  const auto x = w.add("x", seconds(1), kT0);
  const auto y = w.add("y", seconds(1), kT0);
  runs = w.popDue(kT0 + seconds(1));
  REQUIRE(runs.size() == 1);
  const auto waiter = runs[0].targetKey == x ? y : x;
  w.remove(waiter);
  CHECK(w.waitingCount() == 0);
  w.complete(runs[0].targetKey);
  CHECK(w.popDue(kT0 + seconds(1)).empty());
}

TEST_CASE("scheduler: late by many intervals skips the missed runs without a burst") {
  Scheduler s(options(0.0));
  const auto key = s.add("t", seconds(1), kT0);
  const TimePoint first = firstSlot("t", seconds(1), kT0);
  REQUIRE(s.popDue(first).size() == 1);
  s.complete(key);

  const auto runs = s.popDue(first + seconds(10) + milliseconds(500));  // suspended ~10s
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].scheduled == first + seconds(10));  // the slot that covers now
  CHECK(s.skippedRuns() == 9);                       // slots +1s .. +9s
  s.complete(key);
  CHECK(*s.nextDeadline() == first + seconds(11));   // back on the original grid
  CHECK(s.popDue(first + seconds(11)).size() == 1);
}

TEST_CASE("scheduler: nextDeadline tracks the earliest pending work") {
  Scheduler s(options(0.0, 1));
  CHECK_FALSE(s.nextDeadline());
  const auto a = s.add("a", seconds(10), kT0);
  const TimePoint aFirst = firstSlot("a", seconds(10), kT0);
  CHECK(s.nextDeadline() == aFirst);
  CHECK(s.popDue(aFirst - milliseconds(1)).empty());
  CHECK(s.nextDeadline() == aFirst);

  REQUIRE(s.popDue(aFirst).size() == 1);
  CHECK(s.nextDeadline() == aFirst + seconds(10));

  const auto b = s.add("b", seconds(10), aFirst);
  const TimePoint bFirst = firstSlot("b", seconds(10), aFirst);
  CHECK(s.nextDeadline() == std::min(bFirst, aFirst + seconds(10)));
  if (bFirst < aFirst + seconds(10)) {
    CHECK(s.popDue(bFirst).empty());  // b waits: a holds the only slot
    CHECK(s.nextDeadline() == aFirst + seconds(10));
    s.complete(a);
    CHECK(s.nextDeadline() == bFirst);  // released as soon as capacity frees
  }
  s.remove(a);
  s.remove(b);
  CHECK_FALSE(s.nextDeadline());
}

TEST_CASE("scheduler: every slot either runs or is counted as skipped") {
  Scheduler s(options(0.2, 3, 5));
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back(s.add("t" + std::to_string(i), milliseconds(100 + 37 * i), kT0));
  }
  std::set<std::uint64_t> running;
  std::uint64_t started = 0;
  TimePoint now = kT0;
  std::uint64_t rng = 12345;
  for (int step = 0; step < 20000; ++step) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    now += milliseconds((rng >> 33) % 40);
    for (const DueRun& run : s.popDue(now)) {
      REQUIRE(run.due <= now);
      REQUIRE(running.insert(run.targetKey).second);  // never twice in flight
      ++started;
    }
    REQUIRE(s.inflight() <= 3);
    if (!running.empty() && (rng >> 20) % 3 == 0) {
      s.complete(*running.begin());
      running.erase(running.begin());
    }
  }
  std::uint64_t slots = 0;
  for (int i = 0; i < 10; ++i) {
    const milliseconds interval(100 + 37 * i);
    const TimePoint first = firstSlot("t" + std::to_string(i), interval, kT0);
    // Slots whose run lifetime [slot, slot + interval) has fully ended by `now`.
    if (now >= first + interval) slots += static_cast<std::uint64_t>((now - first) / interval);
  }
  // Runs still pending at the end belong to slots that have not ended; started runs can include
  // at most one current slot per target.
  CHECK(started + s.skippedRuns() >= slots);
  CHECK(started + s.skippedRuns() <= slots + keys.size());
  CHECK(s.skippedRuns() > 0);
}

TEST_CASE("scheduler: add and remove many targets") {
  Scheduler s(options(0.0, 1000000));  // no jitter: one interval holds exactly one run each
  std::vector<std::uint64_t> keys;
  const int kTargets = 100000;
  for (int i = 0; i < kTargets; ++i) {
    keys.push_back(s.add("target-" + std::to_string(i), seconds(30), kT0));
  }
  CHECK(std::set<std::uint64_t>(keys.begin(), keys.end()).size() == keys.size());
  for (int i = 0; i < kTargets; i += 2) s.remove(keys[static_cast<std::size_t>(i)]);
  CHECK(s.targetCount() == kTargets / 2);

  const auto reAdded = s.add("target-0", seconds(30), kT0);
  CHECK(std::find(keys.begin(), keys.end(), reAdded) == keys.end());  // keys never reused
  s.remove(reAdded);

  std::set<std::uint64_t> kept;
  for (int i = 1; i < kTargets; i += 2) kept.insert(keys[static_cast<std::size_t>(i)]);
  std::set<std::uint64_t> seen;
  TimePoint now = kT0;
  const TimePoint end = kT0 + seconds(30) - milliseconds(1);  // one slot per target before this
  while (now < end) {
    now = std::min(now + milliseconds(250), end);
    for (const DueRun& run : s.popDue(now)) {
      REQUIRE(kept.count(run.targetKey) == 1);  // never a removed target's
      REQUIRE(seen.insert(run.targetKey).second);
      s.complete(run.targetKey);
    }
  }
  CHECK(seen.size() == kTargets / 2);
  CHECK(s.skippedRuns() == 0);
  for (std::uint64_t key : seen) s.remove(key);
  CHECK(s.targetCount() == 0);
  CHECK_FALSE(s.nextDeadline());
}

TEST_CASE("scheduler: rejects a non-positive interval and clamps a zero cap") {
  Scheduler s(options(0.0, 0));
  CHECK_THROWS_AS(s.add("t", milliseconds(0), kT0), std::invalid_argument);
  s.add("a", seconds(1), kT0);
  s.add("b", seconds(1), kT0);
  CHECK(s.popDue(kT0 + seconds(1) - milliseconds(1)).size() == 1);
}

TEST_CASE("scheduler: a reload's new cap applies to the next runs and keeps every slot") {
  Scheduler s(options(0.0, 1));
  const milliseconds interval(1000);
  const auto a = s.add("a", interval, kT0);
  const auto b = s.add("b", interval, kT0);
  const TimePoint slotA = firstSlot("a", interval, kT0);
  const TimePoint slotB = firstSlot("b", interval, kT0);
  const TimePoint both = std::max(slotA, slotB);
  auto runs = s.popDue(both);
  REQUIRE(runs.size() == 1);  // cap 1: the other one waits
  s.setLimits(0.0, 2);
  runs = s.popDue(both);
  REQUIRE(runs.size() == 1);  // the waiting run gets the new capacity at once
  s.complete(a);
  s.complete(b);
  // Slots did not move: the next runs come one interval after the first ones.
  CHECK(s.nextDeadline() == std::min(slotA, slotB) + interval);
  s.setLimits(std::numeric_limits<double>::quiet_NaN(), 0);  // sane values, never a stall
  CHECK(s.maxInflight() == 1);
}

TEST_CASE("scheduler: a removed target's slot is reused, and its old key stays dead") {
  Scheduler s(options(0.0, 10));
  const auto old = s.add("old", seconds(10), kT0);
  // Its run is handed out, then the target is removed while in flight.
  TimePoint now = kT0 + seconds(10);
  auto runs = s.popDue(now);
  REQUIRE(runs.size() == 1);
  REQUIRE(s.inflight() == 1);
  s.remove(old);
  CHECK(s.inflight() == 0);
  const auto next = s.add("next", seconds(10), now);
  CHECK(Scheduler::slotOf(next) == Scheduler::slotOf(old));  // the same slot ...
  CHECK(next != old);                                         // ... under a new key
  runs = s.popDue(now + seconds(10));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].targetKey == next);
  CHECK(s.inflight() == 1);
  // The old run's completion arrives late: it must not free the new target's run.
  s.complete(old);
  CHECK(s.inflight() == 1);
  s.remove(old);  // nor remove it
  CHECK(s.targetCount() == 1);
  s.complete(next);
  CHECK(s.inflight() == 0);
  // The old target's timers never fire for the new one: one run per interval, no more.
  int started = 0;
  for (TimePoint t = now + seconds(10); t < now + seconds(60); t += milliseconds(100)) {
    for (const DueRun& run : s.popDue(t)) {
      CHECK(run.targetKey == next);
      s.complete(run.targetKey);
      ++started;
    }
  }
  CHECK(started == 5);
}

TEST_CASE("scheduler: shrinking keeps every slot, key and timer") {
  Scheduler s(options(0.0, 100));
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 50; ++i) keys.push_back(s.add("t" + std::to_string(i), seconds(10), kT0));
  for (int i = 25; i < 50; ++i) s.remove(keys[static_cast<std::size_t>(i)]);  // the last half
  s.shrinkToFit();
  CHECK(s.targetCount() == 25);
  // New targets reuse the freed slots under keys never seen before.
  std::set<std::uint64_t> all(keys.begin(), keys.end());
  for (int i = 0; i < 25; ++i) {
    const auto key = s.add("n" + std::to_string(i), seconds(10), kT0);
    CHECK(all.insert(key).second);
  }
  // Every live target still runs once per interval.
  std::map<std::uint64_t, int> runs;
  for (TimePoint t = kT0; t < kT0 + seconds(10); t += milliseconds(50))
    for (const DueRun& run : s.popDue(t)) {
      ++runs[run.targetKey];
      s.complete(run.targetKey);
    }
  CHECK(runs.size() == 50);
  for (const auto& [key, n] : runs) CHECK(n == 1);
}
