#pragma once
// The status page's model, assembled from what the agent knows now (the series), what the
// history kept (24-hour bar, availability over 24 h and 7 d, recent changes), the announced
// versions, the alerts firing and the maintenance windows. Runs on an HTTP thread; the history
// is read through its own read connection (one query for the transitions of every series, one
// for the recent changes), so a page costs no work on the event loop.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "probe/alerting/maintenance.hpp"
#include "probe/deploy/deployments.hpp"
#include "probe/history/history_store.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

struct StatusSources {
  std::string env;
  std::int64_t nowMs = 0;
  std::vector<SeriesState> series;
  HistoryStore* history = nullptr;  // nullptr: no history kept
  const Deployments* deployments = nullptr;
  std::set<std::string> firing;  // seriesKey of each series whose alert fires
  std::vector<MaintenanceWindow> maintenance;
  StatusFilter filter;
};

constexpr int kStatusBarBuckets = 48;  // 30 minutes each over 24 hours
constexpr std::size_t kRecentChanges = 50;

StatusPageModel buildStatusModel(StatusSources sources);

}  // namespace envprobe
