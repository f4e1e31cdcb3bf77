#include "probe/web/status_page.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <tuple>

#include "probe/base/utf8.hpp"

namespace envprobe {

std::vector<SeriesState> sortForOnCall(std::vector<SeriesState> series) {
  std::stable_sort(series.begin(), series.end(), [](const SeriesState& a, const SeriesState& b) {
    return std::make_tuple(a.success, a.service, a.hostname, a.check, a.address) <
           std::make_tuple(b.success, b.service, b.hostname, b.check, b.address);
  });
  return series;
}

std::string htmlEscape(const std::string& text) {
  // The page says charset=utf-8: bytes from targets are made valid first, and control
  // characters (never meaningful in a cell) shown as U+FFFD.
  const std::string valid = makeValidUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string rfc3339(std::int64_t unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm utc{};
  if (!gmtime_r(&t, &utc)) return std::to_string(unixSeconds);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string renderStatusPage(const std::string& env, const std::vector<SeriesState>& series,
                             std::int64_t nowUnix) {
  const auto sorted = sortForOnCall(series);
  const auto failing = std::count_if(sorted.begin(), sorted.end(),
                                     [](const SeriesState& s) { return !s.success; });
  std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" "
      "content=\"5\"><title>envprobe " + htmlEscape(env) + "</title><style>"
      "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
      "td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}"
      ".fail{background:#fdd}.ok{background:#dfd}.summary{font-size:1.2em}"
      "</style></head><body><h1>envprobe &mdash; environment " + htmlEscape(env) + "</h1>";
  html += "<p class=\"summary\" id=\"summary\">" + std::to_string(failing) + " failing of " +
          std::to_string(sorted.size()) + " targets</p>";
  html += "<table id=\"targets\"><tr><th>Status</th><th>Service</th><th>Hostname</th>"
          "<th>Visibility</th><th>Check</th><th>Address</th><th>HTTP</th><th>Duration</th>"
          "<th>Reason</th><th>Detail</th><th>Down since</th><th>Last probe</th></tr>";
  for (const auto& s : sorted) {
    const std::int64_t age = nowUnix - s.lastProbeUnix;
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3fs", s.durationSeconds);
    html += std::string("<tr class=\"") + (s.success ? "ok" : "fail") + "\"><td>" +
            (s.success ? "UP" : "DOWN") + "</td><td>" + htmlEscape(s.service) + "</td><td>" +
            htmlEscape(s.hostname) + "</td><td>" + htmlEscape(s.visibility) + "</td><td>" +
            htmlEscape(s.check) + "</td><td>" + htmlEscape(s.address) + "</td><td>" +
            (s.statusCode ? std::to_string(s.statusCode) : "-") + "</td><td>" + duration +
            "</td><td>" + (s.success ? "" : toString(s.reason)) + "</td><td>" +
            htmlEscape(s.detail) + "</td><td>" +
            (s.downSinceUnix > 0 ? rfc3339(s.downSinceUnix) : "") + "</td><td>" +
            std::to_string(age) + "s ago</td></tr>";
  }
  html += "</table><p><a href=\"/metrics\">/metrics</a> &middot; "
          "<a href=\"/api/v1/targets\">/api/v1/targets</a></p></body></html>\n";
  return html;
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
                   {"resolved_address", s.resolvedAddress}});
  }
  // replace: server and detail carry target bytes; invalid UTF-8 becomes U+FFFD instead of an
  // exception that would take the agent down.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace envprobe
