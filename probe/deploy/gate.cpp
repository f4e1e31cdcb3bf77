#include "probe/deploy/gate.hpp"

#include <algorithm>

#include "probe/catalog/target.hpp"
#include "probe/history/timeline.hpp"

namespace envprobe {

GateResult evaluateGate(const GateQuery& query, const std::vector<SeriesState>& series,
                        const std::map<std::string, std::vector<HistoryTransition>>& transitions,
                        const std::map<std::string, std::int64_t>& firstSeen,
                        std::int64_t nowMs) {
  GateResult out;
  const std::int64_t from = nowMs - query.windowMs;
  static const std::vector<HistoryTransition> kNone;
  for (const auto& s : series) {
    if (!query.service.empty() && s.service != query.service) continue;
    if (!query.visibility.empty() && s.visibility != query.visibility) continue;
    ++out.matched;
    const std::string key = seriesKey(s.targetId, s.address);
    const auto found = transitions.find(key);
    const auto& kept = found == transitions.end() ? kNone : found->second;
    const DownSummary summary = summarize(kept, from, nowMs);
    GateFailure failure;
    failure.series = &s;
    failure.failedSeconds = static_cast<double>(summary.downMs) / 1000.0;
    failure.reason = summary.lastReason;
    failure.detail = summary.lastDetail;
    if (!s.success) {
      failure.reason = toString(s.reason);
      failure.detail = s.detail;
      // Down now but the history has not caught up (its writer commits about once a second).
      if (failure.failedSeconds <= 0 && s.downSinceUnix > 0)
        failure.failedSeconds =
            static_cast<double>(nowMs - std::max(from, s.downSinceUnix * 1000)) / 1000.0;
    }
    if (s.probes == 0) {  // listed, but no result yet (since a restart or a reload)
      failure.insufficientHistory = true;
      failure.reason = "not probed yet";
      failure.detail = "the agent has no result for this target yet";
      out.failing.push_back(std::move(failure));
      continue;
    }
    const bool green = s.success && summary.downMs == 0;
    const auto first = firstSeen.find(key);
    // Observed for the whole window: first seen at its start, and nothing in it unknown (a
    // window longer than what the history still holds).
    const bool covered =
        first != firstSeen.end() && first->second <= from && summary.unknownMs == 0;
    if (green && (covered || query.allowPartial)) continue;
    if (green) {
      failure.insufficientHistory = true;
      failure.reason = "insufficient history";
      if (first == firstSeen.end())
        failure.detail = "no kept history for this series";
      else if (first->second > from)
        failure.detail = "observed for " + std::to_string((nowMs - first->second) / 1000) +
                         "s of the window's " + std::to_string(query.windowMs / 1000) + "s";
      else
        failure.detail = std::to_string(summary.unknownMs / 1000) +
                         "s of the window are not in the kept history";
    }
    failure.failedSeconds = std::max(0.0, failure.failedSeconds);
    out.failing.push_back(std::move(failure));
  }
  std::stable_sort(out.failing.begin(), out.failing.end(),
                   [](const GateFailure& a, const GateFailure& b) {
                     return a.failedSeconds > b.failedSeconds;
                   });
  out.pass = out.matched > 0 && out.failing.empty();
  return out;
}

}  // namespace envprobe
