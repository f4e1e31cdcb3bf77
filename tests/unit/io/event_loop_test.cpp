// The loop's catch-log-continue boundary: an exception escaping a callback is counted and the
// loop goes on; a stop ends one run only (the shutdown sequence runs the loop again).
#include <catch2/catch.hpp>

#include <unistd.h>

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

TEST_CASE("event loop: fds unwatched in one batch of events, closed or left open", "[io]") {
  // Two readable pipes in one batch: the first callback unwatches both, closing one and leaving
  // the other open; neither callback runs again, and the open one can be watched again.
  EventLoop loop;
  int a[2], b[2];
  REQUIRE(pipe(a) == 0);
  REQUIRE(pipe(b) == 0);
  REQUIRE(write(a[1], "x", 1) == 1);
  REQUIRE(write(b[1], "x", 1) == 1);
  int calls = 0;
  int rewatched = 0;
  const auto unwatchBoth = [&](std::uint32_t) {
    ++calls;
    loop.unwatchFd(a[0]);
    loop.unwatchFd(b[0]);
    close(a[0]);
    a[0] = -1;
  };
  loop.watchFd(a[0], 0x001 /* EPOLLIN */, unwatchBoth);
  loop.watchFd(b[0], 0x001, unwatchBoth);
  // Three passes with the open, unwatched, still readable pipe; then it is watched again.
  int passes = 0;
  std::function<void()> pass = [&] {
    if (++passes < 3) {
      loop.post(pass);
      return;
    }
    loop.watchFd(b[0], 0x001, [&](std::uint32_t) {
      ++rewatched;
      loop.unwatchFd(b[0]);
      loop.stop();
    });
  };
  loop.addTimer(loop.now(), pass);
  loop.run();
  CHECK(calls == 1);
  CHECK(rewatched == 1);
  for (int fd : {a[1], b[0], b[1]}) close(fd);
}
