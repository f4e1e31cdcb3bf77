#pragma once
// The on-call status page and its JSON twin (pure rendering of a snapshot): environment x
// service x hostname, failing targets first.
#include <cstdint>
#include <string>
#include <vector>

#include "probe/metrics/probe_metrics.hpp"

namespace envprobe {

// Failing first, then by service, hostname, check.
std::vector<SeriesState> sortForOnCall(std::vector<SeriesState> series);
std::string renderStatusPage(const std::string& env, const std::vector<SeriesState>& series,
                             std::int64_t nowUnix);
std::string renderTargetsJson(const std::vector<SeriesState>& series);
std::string htmlEscape(const std::string& text);
// "2024-05-01T12:00:00Z".
std::string rfc3339(std::int64_t unixSeconds);

}  // namespace envprobe
