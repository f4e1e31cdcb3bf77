#include "probe/deploy/status_model.hpp"

#include "probe/catalog/target.hpp"
#include "probe/history/timeline.hpp"

namespace envprobe {

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

StatusChange statusChange(const std::string& service, const std::string& hostname,
                          const std::string& check, const std::string& what,
                          const std::string& oldValue, const std::string& newValue,
                          std::int64_t unixMs) {
  return StatusChange{unixMs / 1000, service, hostname, check, what, oldValue, newValue};
}

}  // namespace

StatusPageModel buildStatusModel(StatusSources sources) {
  StatusPageModel model;
  model.env = sources.env;
  model.nowUnix = sources.nowMs / 1000;
  model.filter = sources.filter;
  model.historyKept = sources.history != nullptr;
  const std::int64_t now = sources.nowMs;
  std::map<std::string, std::vector<HistoryTransition>> kept;
  if (sources.history) kept = sources.history->queryTransitions(now - 7 * kDayMs);
  static const std::vector<HistoryTransition> kNone;
  model.rows.reserve(sources.series.size());
  for (auto& s : sources.series) {
    StatusRow row;
    const std::string key = seriesKey(s.targetId, s.address);
    if (sources.history && matchesFilter(sources.filter, s)) {
      const auto found = kept.find(key);
      const auto& transitions = found == kept.end() ? kNone : found->second;
      const auto day = timeline(transitions, now - kDayMs, now);
      for (const auto state : bar(day, now - kDayMs, now, kStatusBarBuckets))
        row.bar24h.push_back(state == Span::State::Up ? 1 : state == Span::State::Down ? 0 : -1);
      row.availability24h = availability(day);
      row.availability7d = availability(timeline(transitions, now - 7 * kDayMs, now));
    }
    if (sources.deployments && s.versionTracked)
      if (const auto expected = sources.deployments->expected(s.service))
        row.expectedVersion = expected->version;
    if (sources.firing.contains(key)) row.alertState = "firing";
    row.inMaintenance =
        !sources.maintenance.empty() &&
        inMaintenance(sources.maintenance, s.service, s.hostname, s.check,
                      std::chrono::system_clock::time_point(std::chrono::milliseconds(now)));
    if (s.lastChange->unixMs > 0)
      row.lastChange = statusChange(s.service, s.hostname, s.check, s.lastChange->what,
                                    s.lastChange->oldValue, s.lastChange->newValue, s.lastChange->unixMs);
    row.state = std::move(s);
    model.rows.push_back(std::move(row));
  }
  if (sources.history) {
    ChangeQuery query;
    query.sinceUnixMs = now - 7 * kDayMs;
    query.service = sources.filter.service;
    query.limit = kRecentChanges;
    for (const auto& c : sources.history->queryChanges(query))
      model.recentChanges.push_back(statusChange(c.service, c.hostname, c.check, c.what,
                                                 c.oldValue, c.newValue, c.unixMs));
  }
  return model;
}

}  // namespace envprobe
