#pragma once
// A series' state over a window, computed from its transitions (plain data, no SQLite): the
// spans of up, down and unknown time, availability, a down-time summary and the buckets of a
// status page's history bar.
#include <cstdint>
#include <string>
#include <vector>

#include "probe/history/history_types.hpp"

namespace envprobe {

struct Span {
  std::int64_t fromMs = 0, toMs = 0;  // [fromMs, toMs)
  enum class State { Unknown, Up, Down } state = State::Unknown;
  std::string reason;  // the down reason; "" otherwise
};

// "unknown", "up", "down".
const char* toString(Span::State state);

// One series over the window [fromMs, toMs): `transitions` sorted oldest first (as
// HistoryStore::queryTransitions returns them). A transition at fromMs or before sets the state
// the window opens with; one at toMs or after is outside. Before the first transition the state
// is Unknown. Spans are contiguous, cover the window, and adjacent spans with the same state and
// reason are merged. Empty when toMs <= fromMs. Input out of order is not an error: a transition
// earlier than the one before it changes the state from there on.
std::vector<Span> timeline(const std::vector<HistoryTransition>& transitions, std::int64_t fromMs,
                           std::int64_t toMs);

// Up time / (up + down) time over the spans; negative when neither is known.
double availability(const std::vector<Span>& spans);

struct DownSummary {
  std::int64_t downMs = 0, unknownMs = 0;
  // Of the latest down transition whose down time overlaps the window ("" when none does).
  std::string lastReason, lastDetail;
  bool downAtEnd = false;  // down at the window's end
};

DownSummary summarize(const std::vector<HistoryTransition>& transitions, std::int64_t fromMs,
                      std::int64_t toMs);

// `buckets` equal slices of [fromMs, toMs) (some a millisecond wider when the window
// does not divide evenly), each Down if any down time falls in it, else Up if any up time, else
// Unknown. A slice narrower than a millisecond takes the state at its start. Empty when
// buckets <= 0 or toMs <= fromMs. `spans` sorted oldest first (as timeline returns them).
std::vector<Span::State> bar(const std::vector<Span>& spans, std::int64_t fromMs, std::int64_t toMs,
                             int buckets);

}  // namespace envprobe
