#pragma once
// The on-call status page and its JSON twin (pure rendering): environment x service x
// hostname, failing services and targets first, with each target's history, availability,
// certificate, version, alert and maintenance state and last change; a recent-changes panel;
// a server-side filter (a plain GET form, no JavaScript). Everything that came from a target
// is escaped.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probe/metrics/probe_metrics.hpp"
#include "probe/web/html_text.hpp"

namespace envprobe {

// One thing about a target that changed (server header, certificate, version, ...).
struct StatusChange {
  std::int64_t unixTime = 0;  // unix seconds
  std::string service, hostname, check, what, oldValue, newValue;
};

struct StatusRow {
  SeriesState state;
  std::vector<int> bar24h;      // buckets oldest first: 1 up, 0 down, -1 unknown; empty: no history
  double availability24h = -1;  // 0..1, negative: unknown
  double availability7d = -1;
  std::string expectedVersion;  // announced by a deploy; "" none
  std::string alertState;       // "firing", "pending" or ""
  bool inMaintenance = false;
  std::optional<StatusChange> lastChange;
};

// state: "", "up", "down"; hostname matches as a substring (ASCII case ignored); service
// exactly; "" matches all.
struct StatusFilter {
  std::string service, hostname, state;
};

struct StatusPageModel {
  std::string env;
  std::int64_t nowUnix = 0;
  std::vector<StatusRow> rows;
  std::vector<StatusChange> recentChanges;
  StatusFilter filter;
  bool historyKept = false;
};

// From the URL query string (service=&hostname=&state=): percent-decoded, '+' as a space,
// values bounded, unknown keys and an unknown state ignored. Never throws.
StatusFilter parseStatusFilter(const std::string& query);
bool matchesFilter(const StatusFilter& filter, const std::string& service,
                   const std::string& hostname);
bool matchesFilter(const StatusFilter& filter, const SeriesState& state);

std::string renderStatusPage(const StatusPageModel& model);

// Rows without history, one per series of a metrics snapshot.
std::vector<StatusRow> statusRowsFromSnapshot(std::vector<SeriesState> series);

// Failing first, then by service, hostname, check.
std::vector<SeriesState> sortForOnCall(std::vector<SeriesState> series);
std::string renderTargetsJson(const std::vector<SeriesState>& series);

}  // namespace envprobe
