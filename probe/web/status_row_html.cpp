#include "probe/web/status_row_html.hpp"

#include <cmath>
#include <cstdio>
#include <utility>

namespace envprobe {

namespace {

constexpr std::size_t kMaxDetailBytes = 400;  // a detail shown in a cell, before escaping
constexpr std::size_t kMaxValueBytes = 120;   // a version, header or other changed value
constexpr std::size_t kMaxBuckets = 288;      // history buckets drawn per row

void appendCertDays(std::string& out, const SeriesState& s, std::int64_t now) {
  const std::int64_t expiry = s.certExpiry > 0 ? s.certExpiry : s.tls->lastChainExpiryUnix;
  if (expiry <= 0) {
    out += "<td class=\"cert\"></td>";
    return;
  }
  const std::int64_t left = expiry - now;
  // Rounded down: 13 days and 23 hours is 13 days left.
  const std::int64_t days = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
  out += days < kCertWarnDays ? "<td class=\"cert warn\" title=\"expires "
                              : "<td class=\"cert\" title=\"expires ";
  out += rfc3339(expiry);
  out += "\">";
  if (left < 0) {
    out += "expired ";
    appendInt(out, -days);
    out += " d ago";
  } else {
    appendInt(out, days);
    out += " d";
  }
  out += "</td>";
}

void appendVersion(std::string& out, const StatusRow& row) {
  const std::string& version = row.state.version;
  if (row.expectedVersion.empty() || row.expectedVersion == version) {
    out += "<td class=\"version\">";
    appendEscapedBounded(out, version, kMaxValueBytes);
    out += "</td>";
    return;
  }
  out += "<td class=\"version\"><span class=\"mismatch\">";
  if (version.empty()) {
    out += "unknown";
  } else {
    appendEscapedBounded(out, version, kMaxValueBytes);
  }
  out += " (expected ";
  appendEscapedBounded(out, row.expectedVersion, kMaxValueBytes);
  out += ")</span></td>";
}

void appendBar(std::string& out, const std::vector<int>& buckets) {
  if (buckets.empty()) {
    out += "<td class=\"hist\"><span class=\"nohist\">no history</span></td>";
    return;
  }
  const std::size_t first = buckets.size() > kMaxBuckets ? buckets.size() - kMaxBuckets : 0;
  std::size_t down = 0;
  for (std::size_t i = first; i < buckets.size(); ++i) down += buckets[i] == 0;
  out += "<td class=\"hist\"><span class=\"bar\" title=\"oldest first; ";
  appendInt(out, static_cast<std::int64_t>(down));
  out += " of ";
  appendInt(out, static_cast<std::int64_t>(buckets.size() - first));
  out += " down\">";
  // One element per bucket, as short as HTML allows (10,000 rows x 48 buckets add up).
  for (std::size_t i = first; i < buckets.size(); ++i)
    out += buckets[i] == 1   ? "<i class=u></i>"
           : buckets[i] == 0 ? "<i class=d></i>"
                             : "<i class=n></i>";
  out += "</span></td>";
}

void appendStateCell(std::string& out, const StatusRow& row) {
  out += row.state.success ? "<td class=\"state\"><span class=\"badge up\">UP</span>"
                           : "<td class=\"state\"><span class=\"badge down\">DOWN</span>";
  if (row.alertState == "firing") {
    out += "<span class=\"badge alert firing\">alert firing</span>";
  } else if (row.alertState == "pending") {
    out += "<span class=\"badge alert pending\">alert pending</span>";
  } else if (!row.alertState.empty()) {
    out += "<span class=\"badge alert\">alert ";
    appendEscapedBounded(out, row.alertState, 32);
    out += "</span>";
  }
  if (row.inMaintenance) out += "<span class=\"badge maint\">maintenance</span>";
  out += "</td>";
}

void appendTargetCell(std::string& out, const SeriesState& s) {
  out += "<td class=\"target\"><span class=\"host\">";
  appendEscaped(out, s.hostname);
  out += "</span> <span class=\"sub\">";
  appendEscaped(out, s.visibility);
  out += " &middot; ";
  appendEscaped(out, s.check);
  if (!s.address.empty()) {
    out += " &middot; ";
    appendEscaped(out, s.address);
  }
  out += "</span></td>";
}

void appendDownSince(std::string& out, const SeriesState& s, std::int64_t now) {
  out += "<td class=\"down-since\">";
  if (!s.success && s.downSinceUnix > 0) {
    const std::string since = rfc3339(s.downSinceUnix);
    out += "for ";
    appendDuration(out, now - s.downSinceUnix);
    out += " <time datetime=\"";
    out += since;
    out += "\">";
    out += since;
    out += "</time>";
  } else if (!s.success) {
    out += "down";  // no transition seen yet (e.g. the first probe failed)
  }
  out += "</td>";
}

void appendReasonCell(std::string& out, const SeriesState& s, std::int64_t now) {
  out += "<td class=\"reason\">";
  if (!s.success) {
    out += "<b>";
    out += toString(s.reason);
    out += "</b> ";
  }
  if (s.statusCode) {
    out += "HTTP ";
    appendInt(out, s.statusCode);
    out += ' ';
  }
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3fs", s.durationSeconds);
  out += duration;
  if (!s.detail.empty()) {
    out += " <span class=\"detail\">";
    appendEscapedBounded(out, s.detail, kMaxDetailBytes);
    out += "</span>";
  }
  out += " <span class=\"sub\">probed ";
  if (s.lastProbeUnix > 0) {
    appendAgo(out, s.lastProbeUnix, now);
  } else {
    out += "not yet";
  }
  out += "</span></td>";
}

}  // namespace

void appendAgo(std::string& out, std::int64_t thenUnix, std::int64_t nowUnix) {
  if (thenUnix > nowUnix) {
    out += "just now";
    return;
  }
  appendDuration(out, nowUnix - thenUnix);
  out += " ago";
}

void appendAvailability(std::string& out, double availability) {
  if (!(availability >= 0)) {  // negative or NaN
    out += "\xE2\x80\x94";
    return;
  }
  if (availability >= 1) {
    out += "100%";
    return;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", std::floor(availability * 10000) / 100);
  out += text;
}

void appendChangeText(std::string& out, const StatusChange& change) {
  out += "<span class=\"what\">";
  appendEscapedBounded(out, change.what, 64);
  out += "</span>: ";
  if (change.oldValue.empty()) {
    out += "<i>none</i>";
  } else {
    appendEscapedBounded(out, change.oldValue, kMaxValueBytes);
  }
  out += " \xE2\x86\x92 ";
  if (change.newValue.empty()) {
    out += "<i>none</i>";
  } else {
    appendEscapedBounded(out, change.newValue, kMaxValueBytes);
  }
}

void appendStatusRow(std::string& out, const StatusRow& row, std::int64_t now) {
  const SeriesState& s = row.state;
  out += s.success ? "<tr class=\"row up" : "<tr class=\"row down";
  if (row.inMaintenance) out += " maint";
  out += "\" data-target=\"";
  appendEscaped(out, s.targetId);
  out += "\" data-hostname=\"";
  appendEscaped(out, s.hostname);
  out += "\">";
  appendStateCell(out, row);
  appendTargetCell(out, s);
  appendDownSince(out, s, now);
  appendReasonCell(out, s, now);
  appendBar(out, row.bar24h);
  for (const auto& [availability, name] :
       {std::pair{row.availability24h, "a24"}, std::pair{row.availability7d, "a7d"}}) {
    out += "<td class=\"avail ";
    out += name;
    out += availability >= 0 && availability < 0.99 ? " low\">" : "\">";
    appendAvailability(out, availability);
    out += "</td>";
  }
  appendCertDays(out, s, now);
  appendVersion(out, row);
  out += "<td class=\"change\">";
  if (row.lastChange) {
    appendChangeText(out, *row.lastChange);
    out += ", ";
    appendAgo(out, row.lastChange->unixTime, now);
  }
  out += "</td></tr>\n";
}

}  // namespace envprobe
