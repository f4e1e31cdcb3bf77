// Timeline functions on plain transitions: spans over a window, availability, the down summary
// and the history bar, at their edges (nothing known, one transition, transitions before or
// after the window, the window's boundaries, merging).
#include <catch2/catch.hpp>

#include "probe/history/timeline.hpp"

using namespace envprobe;

namespace {

using State = Span::State;

HistoryTransition up(std::int64_t ms) { return {"s", ms, true, "", ""}; }
HistoryTransition down(std::int64_t ms, std::string reason = "connect", std::string detail = "") {
  return {"s", ms, false, std::move(reason), std::move(detail)};
}

struct Expected {
  std::int64_t from, to;
  State state;
  std::string reason = "";
};

void checkSpans(const std::vector<Span>& spans, const std::vector<Expected>& expected) {
  REQUIRE(spans.size() == expected.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    INFO("span " << i);
    CHECK(spans[i].fromMs == expected[i].from);
    CHECK(spans[i].toMs == expected[i].to);
    CHECK(spans[i].state == expected[i].state);
    CHECK(spans[i].reason == expected[i].reason);
  }
}

}  // namespace

TEST_CASE("history timeline: nothing known is one unknown span", "[history][timeline]") {
  checkSpans(timeline({}, 100, 200), {{100, 200, State::Unknown}});
  CHECK(timeline({}, 200, 200).empty());
  CHECK(timeline({up(50)}, 200, 100).empty());
  CHECK(availability(timeline({}, 100, 200)) < 0);
  CHECK(availability({}) < 0);
}

TEST_CASE("history timeline: one transition inside or before or at the edges or after the window",
          "[history][timeline]") {
  checkSpans(timeline({down(150, "timeout")}, 100, 200),
             {{100, 150, State::Unknown}, {150, 200, State::Down, "timeout"}});
  checkSpans(timeline({up(10)}, 100, 200), {{100, 200, State::Up}});
  checkSpans(timeline({up(100)}, 100, 200), {{100, 200, State::Up}});  // at the start: in force
  checkSpans(timeline({up(200)}, 100, 200), {{100, 200, State::Unknown}});  // at the end: out
  checkSpans(timeline({up(300)}, 100, 200), {{100, 200, State::Unknown}});
}

TEST_CASE("history timeline: transitions before the window set its opening state",
          "[history][timeline]") {
  const std::vector<HistoryTransition> t{down(10, "dns"), up(20), down(30, "tls"), up(150)};
  checkSpans(timeline(t, 100, 200), {{100, 150, State::Down, "tls"}, {150, 200, State::Up}});
  CHECK(availability(timeline(t, 100, 200)) == Approx(0.5));
}

TEST_CASE("history timeline: same state and reason merge but a new reason does not",
          "[history][timeline]") {
  const std::vector<HistoryTransition> t{
      up(0),          up(120), down(130, "a"), down(140, "a"),
      down(160, "b"), up(170), up(170),        down(170, "a")};  // the last at a time wins
  checkSpans(timeline(t, 100, 200), {{100, 130, State::Up},
                                     {130, 160, State::Down, "a"},
                                     {160, 170, State::Down, "b"},
                                     {170, 200, State::Down, "a"}});
}

TEST_CASE("history timeline: out of order input is not an error", "[history][timeline]") {
  const auto spans = timeline({up(150), down(120), up(500), down(180)}, 100, 200);
  REQUIRE_FALSE(spans.empty());
  CHECK(spans.front().fromMs == 100);
  CHECK(spans.back().toMs == 200);
  for (std::size_t i = 1; i < spans.size(); ++i) CHECK(spans[i].fromMs == spans[i - 1].toMs);
}

TEST_CASE("history timeline: availability is up over up and down with unknown time left out",
          "[history][timeline]") {
  CHECK(availability(timeline({up(150)}, 100, 200)) == Approx(1.0));
  CHECK(availability(timeline({down(100)}, 100, 200)) == Approx(0.0));
  CHECK(availability(timeline({up(100), down(175)}, 100, 200)) == Approx(0.75));
}

TEST_CASE(
    "history timeline: summarize gives down and unknown time and the last down reason and down at "
    "the end",
    "[history][timeline]") {
  auto s = summarize({}, 100, 200);
  CHECK(s.downMs == 0);
  CHECK(s.unknownMs == 100);
  CHECK(s.lastReason.empty());
  CHECK_FALSE(s.downAtEnd);

  s = summarize({down(120, "dns", "NXDOMAIN"), up(130), down(150, "tls", "expired"), up(190)}, 100,
                200);
  CHECK(s.downMs == 50);
  CHECK(s.unknownMs == 20);
  CHECK(s.lastReason == "tls");
  CHECK(s.lastDetail == "expired");
  CHECK_FALSE(s.downAtEnd);

  // Down since before the window, still down at its end.
  s = summarize({up(10), down(50, "connect", "refused")}, 100, 200);
  CHECK(s.downMs == 100);
  CHECK(s.unknownMs == 0);
  CHECK(s.lastReason == "connect");
  CHECK(s.lastDetail == "refused");
  CHECK(s.downAtEnd);

  // Down before the window, recovered before it: no down in the window.
  s = summarize({down(10, "connect"), up(50)}, 100, 200);
  CHECK(s.downMs == 0);
  CHECK(s.lastReason.empty());
  CHECK_FALSE(s.downAtEnd);

  // Down before the window, recovered inside it.
  s = summarize({down(10, "connect", "refused"), up(150)}, 100, 200);
  CHECK(s.downMs == 50);
  CHECK(s.lastReason == "connect");
  CHECK_FALSE(s.downAtEnd);

  // A down transition at the window's end is outside it.
  s = summarize({up(10), down(200, "timeout")}, 100, 200);
  CHECK(s.downMs == 0);
  CHECK(s.lastReason.empty());
  CHECK_FALSE(s.downAtEnd);

  CHECK(summarize({down(10)}, 200, 100).downMs == 0);
}

TEST_CASE("history timeline: bar slices are down if any down else up if any up else unknown",
          "[history][timeline]") {
  const auto spans = timeline({up(110), down(135, "x"), up(136)}, 100, 200);
  // Slices of 25 ms: [100,125) unknown then up; [125,150) a 1 ms down; the rest up.
  CHECK(bar(spans, 100, 200, 4) ==
        std::vector<State>{State::Up, State::Down, State::Up, State::Up});
  CHECK(bar(spans, 100, 200, 10) == std::vector<State>{State::Unknown, State::Up, State::Up,
                                                       State::Down, State::Up, State::Up, State::Up,
                                                       State::Up, State::Up, State::Up});
  CHECK(bar(spans, 100, 200, 1) == std::vector<State>{State::Down});
  CHECK(bar(spans, 100, 200, 0).empty());
  CHECK(bar(spans, 100, 200, -3).empty());
  CHECK(bar(spans, 200, 100, 4).empty());
  CHECK(bar({}, 100, 200, 3) == std::vector<State>{State::Unknown, State::Unknown, State::Unknown});
}

TEST_CASE(
    "history timeline: bar over a window that does not divide evenly or is narrower than the bar",
    "[history][timeline]") {
  const auto spans = timeline({down(0, "x"), up(5)}, 0, 10);
  const auto three = bar(spans, 0, 10, 3);  // slices [0,3) [3,6) [6,10)
  CHECK(three == std::vector<State>{State::Down, State::Down, State::Up});
  const auto many = bar(spans, 0, 10, 40);  // slices narrower than a millisecond
  REQUIRE(many.size() == 40);
  CHECK(many.front() == State::Down);
  CHECK(many.back() == State::Up);
  CHECK(std::count(many.begin(), many.end(), State::Down) == 20);
  // A huge window does not overflow.
  const std::int64_t big = std::int64_t{1} << 61;
  const auto wide = bar(timeline({up(0)}, 0, big), 0, big, 90);
  CHECK(wide == std::vector<State>(90, State::Up));
}

TEST_CASE("history timeline: state names", "[history][timeline]") {
  CHECK(std::string(toString(State::Up)) == "up");
  CHECK(std::string(toString(State::Down)) == "down");
  CHECK(std::string(toString(State::Unknown)) == "unknown");
}
