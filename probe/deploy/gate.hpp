#pragma once
// The promotion gate: "was this environment green for the whole window?" — the question a
// pipeline asks before it promotes (GET /api/v1/gate, `envprobe gate`). Pure: decided from the
// current series and their kept transitions.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "probe/history/history_types.hpp"
#include "probe/metrics/series_state.hpp"

namespace envprobe {

struct GateQuery {
  std::int64_t windowMs = 0;
  std::string service;     // "" any
  std::string visibility;  // "" any, "public", "internal"
  bool allowPartial = false;  // history shorter than the window is judged on what there is
};

struct GateFailure {
  const SeriesState* series = nullptr;
  double failedSeconds = 0;  // down time within the window
  std::string reason, detail;
  bool insufficientHistory = false;
};

struct GateResult {
  bool pass = false;
  std::size_t matched = 0;
  std::vector<GateFailure> failing;  // longest failure first
};

// series: the current snapshot (failures point into it); transitions: as
// HistoryStore::queryTransitions(now - window) returns them; firstSeen: series -> unix ms of its
// first kept transition. A matching series passes when it is up now, was never down within
// [now - window, now), and was observed for the whole window: first seen at or before its start
// and no part of it missing from the history (unless allowPartial). A series without a result
// (probes == 0: a target listed but not probed yet) fails with "not probed yet".
GateResult evaluateGate(const GateQuery& query, const std::vector<SeriesState>& series,
                        const std::map<std::string, std::vector<HistoryTransition>>& transitions,
                        const std::map<std::string, std::int64_t>& firstSeen,
                        std::int64_t nowMs);

}  // namespace envprobe
