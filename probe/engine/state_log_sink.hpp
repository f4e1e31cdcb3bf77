#pragma once
// The log lines an operator acts on: one info line when a series (target id + address) goes
// down, one when it recovers; nothing while its state stays the same.
//   "target down"      target, address, url (redacted), reason, detail
//                      - on the first result of a series when it fails (what is down at start);
//                      - when an up series fails;
//                      - again while down when the reason changes (previous_reason, and
//                        down_for_seconds since it went down): "connect" turning into
//                        "http_status" is news.
//   "target recovered" target, address, url, reason (what it was down for), down_for_seconds
// A first result that passes logs nothing. A removed series is forgotten without a line.
// Runs on the loop; the per-probe debug line "probe failed" stays with the metrics.
#include <string>
#include <unordered_map>

#include "probe/engine/result_sink.hpp"
#include "probe/io/timers.hpp"

namespace envprobe {

class StateLogSink : public ResultSink {
 public:
  // `clock` gives the time of each result (the event loop; a manual clock in tests).
  explicit StateLogSink(const Timers& clock) : clock_(clock) {}

  void onResult(const ProbeResult& result) override;
  void onSeriesRemoved(const Target& target, const std::string& address) override;

  std::size_t trackedSeries() const { return series_.size(); }  // series down now

 private:
  struct State {
    bool down = false;
    Reason reason = Reason::None;  // while down: the latest failure reason
    Timers::TimePoint since{};     // while down: when it went down
  };

  const Timers& clock_;
  std::unordered_map<std::string, State> series_;  // down series, by seriesKey(id, address)
};

}  // namespace envprobe
