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
  // A series by the 64-bit hash of its seriesKey: 16 bytes a series instead of a copy of the
  // key (~100). Two series of one agent share a hash with a chance of about n^2 / 2^65
  // (3e-8 at a million series); they would then share this flag, nothing else.
  static std::uint64_t hashOf(const std::string& targetId, const std::string& address);
  static std::uint64_t hashOf(const std::string& seriesKey);

  HistoryStore& store_;
  std::unordered_map<std::uint64_t, bool> up_;  // by hashOf(seriesKey): the state last recorded
};

}  // namespace envprobe
