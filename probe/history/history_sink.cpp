#include "probe/history/history_sink.hpp"

namespace envprobe {

HistorySink::HistorySink(HistoryStore& store, const std::map<std::string, HistoryState>& last)
    : store_(store) {
  for (const auto& [series, state] : last) up_.emplace(series, state.up);
}

void HistorySink::onResult(const ProbeResult& result) {
  const bool up = result.verdict.ok;
  const std::string key = seriesKey(result.target->target.id, result.address);
  const auto [it, inserted] = up_.try_emplace(key, up);
  if (!inserted) {
    if (it->second == up) return;
    it->second = up;
  }
  HistoryTransition t;
  t.series = key;
  t.unixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                 result.finishedAt.time_since_epoch())
                 .count();
  t.up = up;
  if (!up) {
    t.reason = toString(result.verdict.reason);
    t.detail = result.verdict.detail;
  }
  store_.record(std::move(t));
}

void HistorySink::onSeriesRemoved(const Target& target, const std::string& address) {
  up_.erase(seriesKey(target.id, address));
}

}  // namespace envprobe
