#include "probe/history/history_sink.hpp"

namespace envprobe {

HistorySink::HistorySink(HistoryStore& store, const std::map<std::string, HistoryState>& last)
    : store_(store) {
  for (const auto& [series, state] : last) up_.emplace(seriesKeyHash(series), state.up);
}

void HistorySink::onResult(const ProbeResult& result) {
  const bool up = result.verdict.ok;
  const std::string& id = result.target->target.id;
  const auto [it, inserted] = up_.try_emplace(seriesHash(id, result.address), up);
  if (!inserted) {
    if (it->second == up) return;
    it->second = up;
  }
  HistoryTransition t;
  t.series = seriesKey(id, result.address);
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
  up_.erase(seriesHash(target.id, address));
}

}  // namespace envprobe
