// /api/v1/targets (kept as it is for its API users) and the snapshot helpers it shares with
// the status page.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "probe/web/status_page.hpp"

namespace envprobe {

std::vector<SeriesState> sortForOnCall(std::vector<SeriesState> series) {
  std::stable_sort(series.begin(), series.end(), [](const SeriesState& a, const SeriesState& b) {
    return std::make_tuple(a.success, a.service, a.hostname, a.check, a.address) <
           std::make_tuple(b.success, b.service, b.hostname, b.check, b.address);
  });
  return series;
}

std::vector<StatusRow> statusRowsFromSnapshot(std::vector<SeriesState> series) {
  std::vector<StatusRow> rows(series.size());
  for (std::size_t i = 0; i < series.size(); ++i) rows[i].state = std::move(series[i]);
  return rows;
}

std::string renderTargetsJson(const std::vector<SeriesState>& series) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : sortForOnCall(series)) {
    out.push_back({{"env", s.env},
                   {"service", s.service},
                   {"check", s.check},
                   {"hostname", s.hostname},
                   {"visibility", s.visibility},
                   {"address", s.address},
                   {"url", s.url},
                   {"success", s.success},
                   {"reason", toString(s.reason)},
                   {"detail", s.detail},
                   {"status_code", s.statusCode},
                   {"duration_seconds", s.durationSeconds},
                   {"last_probe_unix", s.lastProbeUnix},
                   {"down_since", s.downSinceUnix > 0 ? nlohmann::json(rfc3339(s.downSinceUnix))
                                                      : nlohmann::json(nullptr)},
                   {"server", s.serverHeader},
                   {"resolved_address", s.resolvedAddress},
                   {"version", s.versionTracked ? nlohmann::json(s.version)
                                                : nlohmann::json(nullptr)},
                   {"last_change", s.lastChange->unixMs > 0
                                       ? nlohmann::json{{"what", s.lastChange->what},
                                                        {"old", s.lastChange->oldValue},
                                                        {"new", s.lastChange->newValue},
                                                        {"time", rfc3339(s.lastChange->unixMs / 1000)}}
                                       : nlohmann::json(nullptr)}});
  }
  // replace: server and detail carry target bytes; invalid UTF-8 becomes U+FFFD instead of an
  // exception that would take the agent down.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace envprobe
