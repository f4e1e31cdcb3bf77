// The loop's catch-log-continue boundary: an exception escaping a callback is counted and the
// loop goes on; a stop ends one run only (the shutdown sequence runs the loop again).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "probe/base/internal_errors.hpp"
#include "probe/io/event_loop.hpp"

using namespace envprobe;

TEST_CASE("event loop: a throwing timer or task is counted, later callbacks still run", "[io]") {
  EventLoop loop;
  const auto before = internalErrorCount();
  bool later = false;
  loop.addTimer(loop.now(), [] { throw std::runtime_error("boom in a timer"); });
  loop.post([] { throw 42; });
  loop.addTimer(loop.now(), [&] {
    later = true;
    loop.stop();
  });
  loop.run();
  CHECK(later);
  CHECK(internalErrorCount() == before + 2);
}

TEST_CASE("event loop: stop ends one run; the loop can run again", "[io]") {
  EventLoop loop;
  int runs = 0;
  loop.post([&] {
    ++runs;
    loop.stop();
  });
  loop.run();
  loop.post([&] {
    ++runs;
    loop.stop();
  });
  loop.run();
  CHECK(runs == 2);
}
