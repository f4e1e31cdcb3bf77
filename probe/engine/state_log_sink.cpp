#include "probe/engine/state_log_sink.hpp"

#include <chrono>
#include <cmath>

#include "probe/base/logging.hpp"

namespace envprobe {

namespace {

// Whole milliseconds: enough for an outage, and short to read.
double secondsBetween(Timers::TimePoint from, Timers::TimePoint to) {
  return std::round(std::chrono::duration<double>(to - from).count() * 1000.0) / 1000.0;
}

}  // namespace

void StateLogSink::onResult(const ProbeResult& result) {
  const Target& t = result.target->target;
  const auto now = clock_.now();
  const bool ok = result.verdict.ok;
  // Only series that are down are kept: an up series needs no state (most series, most of
  // the time), so a healthy fleet costs nothing here.
  if (ok) {
    if (series_.empty()) return;
    auto it = series_.find(seriesKey(t.id, result.address));
    if (it == series_.end()) return;
    const State& s = it->second;
    logInfo("target recovered", {{"target", t.id},
                                 {"address", result.address},
                                 {"url", redactedUrl(t.url)},
                                 {"reason", toString(s.reason)},
                                 {"down_for_seconds", secondsBetween(s.since, now)}});
    series_.erase(it);
    return;
  }

  State& s = series_[seriesKey(t.id, result.address)];
  const Reason reason = result.verdict.reason;
  if (!s.down) {
    logInfo("target down", {{"target", t.id},
                            {"address", result.address},
                            {"url", redactedUrl(t.url)},
                            {"reason", toString(reason)},
                            {"detail", result.verdict.detail}});
    s = State{true, reason, now};
    return;
  }
  if (reason != s.reason) {
    logInfo("target down", {{"target", t.id},
                            {"address", result.address},
                            {"url", redactedUrl(t.url)},
                            {"reason", toString(reason)},
                            {"detail", result.verdict.detail},
                            {"previous_reason", toString(s.reason)},
                            {"down_for_seconds", secondsBetween(s.since, now)}});
    s.reason = reason;
  }
}

void StateLogSink::onSeriesRemoved(const Target& target, const std::string& address) {
  series_.erase(seriesKey(target.id, address));
}

}  // namespace envprobe
