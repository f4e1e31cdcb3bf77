// The event loop's timer heap: deadline order, first-in-first-out at one deadline, cancelling
// (also from inside a callback), ids that never match a later timer, and timers added while a
// pass runs waiting for the next pass. Then the loop itself: the timerfd is set only when the
// earliest deadline moves earlier, and a timer whose time has come never sets it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "probe/io/event_loop.hpp"
#include "probe/io/timer_heap.hpp"

using namespace envprobe;
using namespace std::chrono_literals;

namespace {

using TP = Timers::TimePoint;
const TP kBase = TP(1000h);

// Runs every timer due at `now` that was added before this pass began, in order.
void runPass(TimerHeap& heap, TP now) {
  const auto pass = heap.beginPass();
  while (heap.topDue(now, pass)) heap.popTop()();
}

}  // namespace

TEST_CASE("timer heap: timers run in deadline order, equal deadlines in the order added", "[io]") {
  TimerHeap heap;
  std::vector<int> order;
  heap.add(kBase + 30ms, [&] { order.push_back(3); });
  heap.add(kBase + 10ms, [&] { order.push_back(1); });
  heap.add(kBase + 20ms, [&] { order.push_back(20); });
  heap.add(kBase + 20ms, [&] { order.push_back(21); });
  heap.add(kBase + 20ms, [&] { order.push_back(22); });
  heap.add(kBase + 40ms, [&] { order.push_back(4); });
  runPass(heap, kBase + 5ms);
  CHECK(order.empty());
  CHECK(heap.earliest() == kBase + 10ms);
  runPass(heap, kBase + 30ms);
  CHECK(order == std::vector<int>{1, 20, 21, 22, 3});
  CHECK(heap.size() == 1);
}

TEST_CASE("timer heap: a cancelled timer never runs; a stale id cancels nothing", "[io]") {
  TimerHeap heap;
  std::vector<int> ran;
  const auto a = heap.add(kBase + 1ms, [&] { ran.push_back(1); });
  const auto b = heap.add(kBase + 2ms, [&] { ran.push_back(2); });
  heap.add(kBase + 3ms, [&] { ran.push_back(3); });
  heap.cancel(b);
  heap.cancel(b);  // twice: a no-op
  runPass(heap, kBase + 1ms);
  CHECK(ran == std::vector<int>{1});
  // a's slot is free now; the next timer takes it, and a's old id must not reach it.
  const auto c = heap.add(kBase + 2ms, [&] { ran.push_back(4); });
  CHECK(c != a);
  heap.cancel(a);
  runPass(heap, kBase + 10ms);
  CHECK(ran == std::vector<int>{1, 4, 3});
  CHECK(heap.empty());
}

TEST_CASE("timer heap: a callback may cancel a later timer or add one; an added due timer waits for the next pass", "[io]") {
  TimerHeap heap;
  std::vector<int> ran;
  Timers::TimerId later = 0;
  heap.add(kBase + 1ms, [&] {
    ran.push_back(1);
    heap.cancel(later);
    heap.add(kBase, [&] { ran.push_back(9); });  // already due
  });
  later = heap.add(kBase + 2ms, [&] { ran.push_back(2); });
  runPass(heap, kBase + 5ms);
  CHECK(ran == std::vector<int>{1});
  runPass(heap, kBase + 5ms);
  CHECK(ran == std::vector<int>{1, 9});
  CHECK(heap.empty());
}

TEST_CASE("timer heap: random adds and cancels keep the order of what is left", "[io]") {
  TimerHeap heap;
  std::mt19937 rng(7);
  std::vector<std::pair<Timers::TimerId, int>> live;
  std::vector<int> ran;
  for (int i = 0; i < 2000; ++i) {
    const int at = static_cast<int>(rng() % 500);
    live.emplace_back(heap.add(kBase + std::chrono::milliseconds(at), [&ran, at] { ran.push_back(at); }), at);
    if (rng() % 3 == 0) {
      const std::size_t k = rng() % live.size();
      heap.cancel(live[k].first);
      live.erase(live.begin() + static_cast<long>(k));
    }
  }
  runPass(heap, kBase + 1s);
  REQUIRE(ran.size() == live.size());
  CHECK(std::is_sorted(ran.begin(), ran.end()));
  CHECK(heap.empty());
}

TEST_CASE("event loop: the timerfd is set only when the earliest deadline moves earlier", "[io]") {
  EventLoop loop(EventLoop::TimerMode::TimerFd);
  REQUIRE(loop.usesTimerFd());
  std::vector<int> ran;
  const auto start = loop.now();
  // Added before run(): the loop arms once for the earliest, not once per timer.
  loop.addTimer(start + 3ms, [&] { ran.push_back(3); });
  loop.addTimer(start + 2ms, [&] { ran.push_back(2); });
  const auto cancelled = loop.addTimer(start + 2500us, [&] { ran.push_back(99); });
  loop.addTimer(start + 2ms, [&] {
    ran.push_back(21);
    loop.cancelTimer(cancelled);
    // Due already: runs after this pass without setting the timerfd.
    loop.addTimer(loop.now(), [&] { ran.push_back(22); });
  });
  loop.addTimer(start + 4ms, [&] {
    ran.push_back(4);
    loop.stop();
  });
  loop.run();
  // 22 was due when added, in 21's pass: it runs in the next pass, after what that pass ran (3
  // and 4 too, if the machine woke that late).
  const auto at22 = std::find(ran.begin(), ran.end(), 22);
  REQUIRE(at22 != ran.end());
  CHECK(at22 > std::find(ran.begin(), ran.end(), 21));
  ran.erase(at22);
  CHECK(ran == std::vector<int>{2, 21, 3, 4});
  // One arm per distinct wake-up at most: 2 ms, then 3 ms (2.5 ms was cancelled), then 4 ms.
  CHECK(loop.timerFdArms() <= 3);
  CHECK(loop.timerFdArms() >= 1);
}

TEST_CASE("event loop: timers that are due never set the timerfd", "[io]") {
  EventLoop loop(EventLoop::TimerMode::TimerFd);
  int count = 0;
  std::function<void()> again = [&] {
    if (++count == 100) {
      loop.stop();
      return;
    }
    loop.addTimer(loop.now(), again);
  };
  loop.addTimer(loop.now(), again);
  loop.run();
  CHECK(count == 100);
  CHECK(loop.timerFdArms() == 0);
}

TEST_CASE("event loop: timers run in order without the timerfd too", "[io]") {
  EventLoop loop;
  std::vector<int> ran;
  const auto start = loop.now();
  loop.addTimer(start + 2ms, [&] { ran.push_back(2); });
  loop.addTimer(start + 1ms, [&] { ran.push_back(1); });
  loop.addTimer(start + 3ms, [&] {
    ran.push_back(3);
    CHECK(loop.now() >= start + 3ms);  // never early
    loop.stop();
  });
  loop.run();
  CHECK(ran == std::vector<int>{1, 2, 3});
  if (!loop.usesTimerFd()) CHECK(loop.timerFdArms() == 0);
}
