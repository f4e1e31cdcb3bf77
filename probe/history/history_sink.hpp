#pragma once
// Feeds the history store from the results: one transition when a series' success flips, and
// on a series' first result when it differs from what the store last knew of it (so a restart
// of a target that stays down records nothing and keeps its "down since"). Runs on the loop:
// a map lookup per result and, on a flip, a queue append; the disk is the store's writer thread.
// A removed series is forgotten here only: its history stays in the store.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "probe/engine/result_sink.hpp"
#include "probe/history/history_store.hpp"

namespace envprobe {

class HistorySink : public ResultSink {
 public:
  // `last`: each series' latest stored state (HistoryStore::loadLastStates).
  HistorySink(HistoryStore& store, const std::map<std::string, HistoryState>& last);

  void onResult(const ProbeResult& result) override;
  void onSeriesRemoved(const Target& target, const std::string& address) override;

 private:
  HistoryStore& store_;
  // By seriesHash: 16 bytes a series instead of a copy of its key (~100). Two series that
  // share a hash (see seriesHash) would share this flag, nothing else.
  std::unordered_map<std::uint64_t, bool> up_;  // the state last recorded
};

}  // namespace envprobe
