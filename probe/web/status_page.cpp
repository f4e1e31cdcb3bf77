#include "probe/web/status_page.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "probe/web/status_row_html.hpp"

namespace envprobe {

namespace {

constexpr std::size_t kMaxChanges = 50;
constexpr int kRefreshSeconds = 30;

// Inline only: the page loads nothing else. Under 700px each row becomes a card whose cells
// stack, labelled by CSS (no per-row bytes).
constexpr std::string_view kStyle =
    "*{box-sizing:border-box}"
    "body{font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "padding:.8em;color:#1b1b1b;background:#fff}"
    "header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2em 1em}"
    "h1{font-size:1.2em;margin:0}h2{font-size:1.1em;margin:1em 0 .3em}"
    ".asof,#count,footer{color:#555;font-size:.85em}"
    ".banner{margin:.6em 0;padding:.6em .9em;border-radius:.4em;font-size:1.2em}"
    ".banner.failing{background:#c62828;color:#fff;font-size:1.7em;font-weight:bold}"
    ".banner.ok{background:#2e7d32;color:#fff}.banner.empty{background:#eee}"
    ".banner .more{display:block;font-size:.55em;font-weight:normal}"
    "form{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-end;margin:.5em 0}"
    "label{display:flex;flex-direction:column;font-size:.85em;color:#444}"
    "input,select,button{font-size:1rem;padding:.3em;min-height:2.3em}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{padding:.3em .5em;border-bottom:1px solid #e3e3e3;text-align:left;"
    "vertical-align:top}"
    "thead th{font-size:.8em;color:#555;background:#f5f5f5}"
    "tr.group th{background:#eef1f5;padding-top:.6em}"
    "tr.group.failing th{background:#fbd5d5}.group .n{font-weight:normal;font-size:.85em}"
    "tr.down{background:#fff4f4}tr.down td.state{border-left:4px solid #c62828}"
    ".badge{display:inline-block;padding:0 .4em;border-radius:.3em;font-size:.8em;"
    "font-weight:bold;margin:0 .2em .2em 0}"
    ".badge.up{background:#2e7d32;color:#fff}.badge.down{background:#c62828;color:#fff}"
    ".badge.firing{background:#e65100;color:#fff}.badge.pending{background:#ffe0b2}"
    ".badge.maint{background:#bbdefb}"
    "td.target{min-width:11em}.host{font-weight:bold;overflow-wrap:break-word}"
    ".sub{display:block;color:#666;font-size:.85em;overflow-wrap:break-word}"
    ".detail{display:block;overflow-wrap:anywhere}"
    "td.avail,td.cert,.down-since time{white-space:nowrap}"
    ".down-since{color:#b71c1c;font-weight:bold}"
    ".down-since time{display:block;font-weight:normal;font-size:.8em;color:#666}"
    ".bar{display:inline-flex;width:12em;height:1.2em;gap:1px;vertical-align:middle}"
    ".bar i{flex:1;background:#ccc}.bar i.u{background:#43a047}.bar i.d{background:#e53935}"
    ".nohist{color:#999;font-size:.85em}"
    ".avail.low,.cert.warn{color:#b71c1c;font-weight:bold}"
    ".mismatch{color:#b71c1c;font-weight:bold;background:#fff3cd;padding:0 .2em}"
    ".change,#changes li{overflow-wrap:break-word}.what{font-weight:bold}"
    "td.change{min-width:12em}td.reason{min-width:14em}"
    "#changes ol{padding-left:1.3em;margin:0}#changes li{margin:.25em 0}"
    "#changes time{color:#666}"
    "@media (max-width:700px){body{padding:.5em}"
    "table,tbody,tr,td,th{display:block;width:100%}thead{display:none}"
    "tr.row{border:1px solid #ddd;border-radius:.4em;margin:.4em 0;padding:.3em 0}"
    "tr.down{border-left:6px solid #c62828}tr.down td.state{border-left:0}"
    "td{border:0;padding:.15em .6em}td.avail,td.cert{display:inline-block;width:auto}"
    "td:empty{display:none}"
    "td.hist::before{content:'Last 24 h ';color:#666;font-size:.85em}"
    "td.a24::before{content:'Availability 24 h ';color:#666;font-size:.85em}"
    "td.a7d::before{content:'7 d ';color:#666;font-size:.85em}"
    "td.cert::before{content:'Cert ';color:#666;font-size:.85em}"
    "td.version::before{content:'Version ';color:#666;font-size:.85em}"
    "td.change::before{content:'Changed ';color:#666;font-size:.85em}"
    ".bar{width:100%;max-width:24em}.banner.failing{font-size:1.4em}}";

void appendCount(std::string& out, std::size_t n, const char* one, const char* many) {
  appendInt(out, static_cast<std::int64_t>(n));
  out += ' ';
  out += n == 1 ? one : many;
}

void appendBanner(std::string& out, const StatusPageModel& model) {
  std::size_t failing = 0, firing = 0, maintenance = 0;
  for (const auto& row : model.rows) {
    failing += !row.state.success;
    firing += row.alertState == "firing";
    maintenance += row.inMaintenance;
  }
  const std::size_t total = model.rows.size();
  if (total == 0) {
    out += "<div id=\"banner\" class=\"banner empty\">No targets in env <b>";
  } else if (failing > 0) {
    out += "<div id=\"banner\" class=\"banner failing\">";
    appendInt(out, static_cast<std::int64_t>(failing));
    out += " failing <span class=\"of\">of ";
    appendCount(out, total, "target", "targets");
    out += " in env <b>";
  } else {
    out += "<div id=\"banner\" class=\"banner ok\">All ";
    appendCount(out, total, "target", "targets");
    out += " up in env <b>";
  }
  appendEscaped(out, model.env);
  out += failing > 0 ? "</b></span>" : "</b>";
  if (firing > 0 || maintenance > 0) {
    out += "<span class=\"more\">";
    if (firing > 0) appendCount(out, firing, "alert firing", "alerts firing");
    if (firing > 0 && maintenance > 0) out += " &middot; ";
    if (maintenance > 0)
      appendCount(out, maintenance, "target in maintenance", "targets in maintenance");
    out += "</span>";
  }
  out += "</div>\n";
}

void appendOption(std::string& out, std::string_view value, std::string_view label, bool selected) {
  out += "<option value=\"";
  appendEscaped(out, value);
  out += selected ? "\" selected>" : "\">";
  appendEscaped(out, label);
  out += "</option>";
}

// A plain GET form: no action, so it submits to this page's own path (also behind a prefix).
void appendFilterForm(std::string& out, const StatusPageModel& model) {
  std::vector<std::string_view> services;
  services.reserve(model.rows.size());
  for (const auto& row : model.rows) services.push_back(row.state.service);
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  const StatusFilter& f = model.filter;
  out += "<form id=\"filter\" method=\"get\"><label>Service <select name=\"service\">";
  appendOption(out, "", "all", f.service.empty());
  bool listed = f.service.empty();
  for (const auto service : services) {
    appendOption(out, service, service, service == f.service);
    listed = listed || service == f.service;
  }
  if (!listed) appendOption(out, f.service, f.service, true);
  out += "</select></label><label>Hostname <input type=\"search\" name=\"hostname\" value=\"";
  appendEscaped(out, f.hostname);
  out += "\" placeholder=\"part of a hostname\"></label><label>State <select name=\"state\">";
  appendOption(out, "", "any", f.state.empty());
  appendOption(out, "down", "down", f.state == "down");
  appendOption(out, "up", "up", f.state == "up");
  out +=
      "</select></label><button type=\"submit\">Filter</button> <a href=\"?\">clear</a>"
      "</form>\n";
}

// Services with a failing row first, then by name; within a service failing rows first, then
// by hostname, check, address.
void sortForPage(std::vector<const StatusRow*>& rows) {
  std::unordered_map<std::string_view, bool> serviceFails;
  for (const StatusRow* row : rows)
    if (!row->state.success) serviceFails[row->state.service] = true;
  std::sort(rows.begin(), rows.end(), [&](const StatusRow* a, const StatusRow* b) {
    const SeriesState& x = a->state;
    const SeriesState& y = b->state;
    const bool xf = serviceFails.count(x.service) > 0, yf = serviceFails.count(y.service) > 0;
    if (xf != yf) return xf;
    if (const int c = x.service.compare(y.service)) return c < 0;
    if (x.success != y.success) return !x.success;
    if (const int c = x.hostname.compare(y.hostname)) return c < 0;
    if (const int c = x.check.compare(y.check)) return c < 0;
    if (const int c = x.address.compare(y.address)) return c < 0;
    return x.visibility < y.visibility;
  });
}

void appendTable(std::string& out, const std::vector<const StatusRow*>& rows, std::int64_t now) {
  out += "<table id=\"targets\"><thead><tr>";
  for (const char* column : kStatusColumns) {
    out += "<th>";
    out += column;
    out += "</th>";
  }
  out += "</tr></thead>\n";
  for (std::size_t begin = 0; begin < rows.size();) {
    const std::string& service = rows[begin]->state.service;
    std::size_t end = begin, failing = 0;
    for (; end < rows.size() && rows[end]->state.service == service; ++end)
      failing += !rows[end]->state.success;
    out += "<tbody class=\"svc\" data-service=\"";
    appendEscaped(out, service);
    out += failing ? "\"><tr class=\"group failing\"><th colspan=\""
                   : "\"><tr class=\"group\"><th colspan=\"";
    appendInt(out, kStatusColumnCount);
    out += "\">";
    appendEscaped(out, service);
    out += " <span class=\"n\">";
    if (failing) {
      appendInt(out, static_cast<std::int64_t>(failing));
      out += " failing of ";
    }
    appendCount(out, end - begin, "target", "targets");
    out += "</span></th></tr>\n";
    for (; begin < end; ++begin) appendStatusRow(out, *rows[begin], now);
    out += "</tbody>\n";
  }
  out += "</table>\n";
}

void appendChanges(std::string& out, const StatusPageModel& model) {
  std::vector<const StatusChange*> changes;
  for (const auto& change : model.recentChanges)
    if (matchesFilter(model.filter, change.service, change.hostname)) changes.push_back(&change);
  std::stable_sort(changes.begin(), changes.end(),
                   [](const StatusChange* a, const StatusChange* b) { return a->unixTime > b->unixTime; });
  if (changes.size() > kMaxChanges) changes.resize(kMaxChanges);
  out += "<section id=\"changes\"><h2>Recent changes</h2>";
  if (changes.empty()) {
    out += "<p class=\"none\">No changes seen.</p></section>\n";
    return;
  }
  out += "<ol>";
  for (const StatusChange* c : changes) {
    const std::string at = rfc3339(c->unixTime);
    out += "<li class=\"change\"><time datetime=\"";
    out += at;
    out += "\" title=\"";
    out += at;
    out += "\">";
    appendAgo(out, c->unixTime, model.nowUnix);
    out += "</time> <b>";
    appendEscaped(out, c->service);
    out += "</b> ";
    appendEscaped(out, c->hostname);
    if (!c->check.empty()) {
      out += " &middot; ";
      appendEscaped(out, c->check);
    }
    out += " &mdash; ";
    appendChangeText(out, *c);
    out += "</li>\n";
  }
  out += "</ol></section>\n";
}

}  // namespace

std::string renderStatusPage(const StatusPageModel& model) {
  std::vector<const StatusRow*> shown;
  shown.reserve(model.rows.size());
  std::size_t buckets = 0, failing = 0;
  for (const auto& row : model.rows) {
    failing += !row.state.success;
    if (!matchesFilter(model.filter, row.state)) continue;
    shown.push_back(&row);
    buckets += row.bar24h.size();
  }
  sortForPage(shown);

  std::string out;
  out.reserve(8192 + kStyle.size() + shown.size() * 900 + buckets * 17 + model.rows.size() * 48 +
              std::min(model.recentChanges.size(), kMaxChanges) * 400);
  out +=
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"refresh\" content=\"";
  appendInt(out, kRefreshSeconds);
  out += "\"><title>";
  if (failing) {
    appendInt(out, static_cast<std::int64_t>(failing));
    out += " failing &middot; ";
  }
  out += "envprobe ";
  appendEscaped(out, model.env);
  // The tab's icon says red or green (inline: the page loads nothing else).
  out +=
      "</title><link rel=\"icon\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/"
      "2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23";
  out += failing ? "c62828" : "2e7d32";
  out += "'/%3E%3C/svg%3E\"><style>";
  out += kStyle;
  out += "</style></head><body>\n<header><h1>envprobe &middot; env <span id=\"env\">";
  appendEscaped(out, model.env);
  out += "</span></h1><span class=\"asof\">as of <time id=\"now\">";
  out += rfc3339(model.nowUnix);
  out += "</time>, refreshed every ";
  appendInt(out, kRefreshSeconds);
  out += " s</span></header>\n";
  appendBanner(out, model);
  appendFilterForm(out, model);

  out += "<p id=\"count\">Showing <b id=\"shown\">";
  appendInt(out, static_cast<std::int64_t>(shown.size()));
  out += "</b> of ";
  appendCount(out, model.rows.size(), "target", "targets");
  out += "</p>\n";

  if (shown.empty()) {
    out += model.rows.empty() ? "<p class=\"none\" id=\"empty\">This agent probes no target.</p>\n"
                              : "<p class=\"none\" id=\"empty\">No target matches the filter."
                                "</p>\n";
  } else {
    appendTable(out, shown, model.nowUnix);
  }
  appendChanges(out, model);
  out += "<footer>";
  if (!model.historyKept)
    out += "No history on this page: the 24-hour bars and availability are unknown. ";
  out +=
      "<a href=\"/metrics\">/metrics</a> &middot; "
      "<a href=\"/api/v1/targets\">/api/v1/targets</a></footer>\n</body></html>\n";
  return out;
}

}  // namespace envprobe
