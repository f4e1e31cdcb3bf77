#include "probe/history/timeline.hpp"

#include <algorithm>

namespace envprobe {

namespace {

// Appends [from, to) in `state`, merging with the previous span when it is the same.
void append(std::vector<Span>& spans, std::int64_t from, std::int64_t to, Span::State state,
            const std::string& reason) {
  if (to <= from) return;
  if (!spans.empty() && spans.back().state == state && spans.back().reason == reason &&
      spans.back().toMs == from) {
    spans.back().toMs = to;
    return;
  }
  spans.push_back({from, to, state, reason});
}

Span::State stateOf(const HistoryTransition& t) {
  return t.up ? Span::State::Up : Span::State::Down;
}

}  // namespace

const char* toString(Span::State state) {
  switch (state) {
    case Span::State::Up:
      return "up";
    case Span::State::Down:
      return "down";
    case Span::State::Unknown:
      break;
  }
  return "unknown";
}

std::vector<Span> timeline(const std::vector<HistoryTransition>& transitions, std::int64_t fromMs,
                           std::int64_t toMs) {
  std::vector<Span> spans;
  if (toMs <= fromMs) return spans;
  Span::State state = Span::State::Unknown;
  std::string reason;
  std::int64_t cursor = fromMs;
  for (const auto& t : transitions) {
    if (t.unixMs >= toMs) continue;  // out of order input may come back into the window
    if (t.unixMs > cursor) {
      append(spans, cursor, t.unixMs, state, reason);
      cursor = t.unixMs;
    }
    state = stateOf(t);
    reason = t.up ? std::string() : t.reason;
  }
  append(spans, cursor, toMs, state, reason);
  return spans;
}

double availability(const std::vector<Span>& spans) {
  std::int64_t up = 0, down = 0;
  for (const auto& s : spans) {
    const std::int64_t length = std::max<std::int64_t>(0, s.toMs - s.fromMs);
    if (s.state == Span::State::Up) up += length;
    if (s.state == Span::State::Down) down += length;
  }
  if (up + down == 0) return -1.0;
  return static_cast<double>(up) / static_cast<double>(up + down);
}

DownSummary summarize(const std::vector<HistoryTransition>& transitions, std::int64_t fromMs,
                      std::int64_t toMs) {
  DownSummary summary;
  if (toMs <= fromMs) return summary;
  for (const auto& span : timeline(transitions, fromMs, toMs)) {
    if (span.state == Span::State::Down) summary.downMs += span.toMs - span.fromMs;
    if (span.state == Span::State::Unknown) summary.unknownMs += span.toMs - span.fromMs;
  }
  // The transition in force at each moment of the window: the latest at or before fromMs, then
  // each one inside. The last of those that is down overlaps the window.
  const HistoryTransition* inForce = nullptr;
  const HistoryTransition* lastDown = nullptr;
  for (const auto& t : transitions) {
    if (t.unixMs >= toMs) continue;
    if (t.unixMs <= fromMs) {
      inForce = &t;
      continue;
    }
    if (inForce && !inForce->up && inForce->unixMs <= fromMs) lastDown = inForce;
    inForce = &t;
    if (!t.up) lastDown = &t;
  }
  if (inForce && !inForce->up) lastDown = inForce;
  if (lastDown) {
    summary.lastReason = lastDown->reason;
    summary.lastDetail = lastDown->detail;
  }
  summary.downAtEnd = inForce != nullptr && !inForce->up;
  return summary;
}

std::vector<Span::State> bar(const std::vector<Span>& spans, std::int64_t fromMs, std::int64_t toMs,
                             int buckets) {
  std::vector<Span::State> out;
  if (buckets <= 0 || toMs <= fromMs) return out;
  out.reserve(static_cast<std::size_t>(buckets));
  const std::int64_t width = toMs - fromMs;
  const std::int64_t n = buckets;
  // The start of slice i, without overflowing width * i.
  auto startOf = [&](std::int64_t i) { return fromMs + width / n * i + width % n * i / n; };
  std::size_t first = 0;  // the first span that may reach into the current slice
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t start = startOf(i);
    const std::int64_t end = i + 1 == n ? toMs : startOf(i + 1);
    while (first < spans.size() && spans[first].toMs <= start) ++first;
    bool up = false, down = false;
    for (std::size_t k = first; k < spans.size(); ++k) {
      const Span& s = spans[k];
      if (s.fromMs >= std::max(end, start + 1)) break;
      const bool overlaps =
          end > start ? s.fromMs < end && s.toMs > start : s.fromMs <= start && start < s.toMs;
      if (!overlaps) continue;
      up = up || s.state == Span::State::Up;
      down = down || s.state == Span::State::Down;
    }
    out.push_back(down ? Span::State::Down : up ? Span::State::Up : Span::State::Unknown);
  }
  return out;
}

}  // namespace envprobe
