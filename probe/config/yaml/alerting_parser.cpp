#include "probe/config/yaml/alerting_parser.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "probe/base/duration.hpp"

namespace envprobe {

namespace {

std::optional<LabelMap> parseLabels(const YamlContext& ctx, const YAML::Node& node,
                                    const std::string& path) {
  if (!node.IsMap()) {
    ctx.error(node, path, std::string("expected a map label -> value, got ") + yamlTypeName(node));
    return std::nullopt;
  }
  LabelMap labels;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const bool validName = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                                  "TUVWXYZ0123456789_") == std::string::npos;
    if (!validName) {
      ctx.error(it->first, path + "." + name, "invalid label name; use [a-zA-Z_][a-zA-Z0-9_]*");
      continue;
    }
    if (auto value = ctx.scalar(it->second, path + "." + name)) labels[name] = *value;
  }
  return labels;
}

void parseLabelsByName(const YamlContext& ctx, const YAML::Node& node, const std::string& path,
                       std::map<std::string, LabelMap>& out) {
  if (!node.IsMap()) {
    ctx.error(node, path, std::string("expected a map name -> labels, got ") + yamlTypeName(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (auto labels = parseLabels(ctx, it->second, path + "." + it->first.Scalar()))
      out[it->first.Scalar()] = *labels;
  }
}

}  // namespace

void parseAlerting(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config) {
  MapReader r(ctx, node, "alerting",
              {"alertmanagers", "failure_threshold", "success_threshold", "resend_interval",
               "escalate_after", "queue_capacity", "external_url", "runbook_url", "dashboard_url",
               "labels"});
  if (!r.isMap()) return;
  AlertSettings& a = config.alerting;
  if (auto v = r.stringList("alertmanagers")) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::string& url = (*v)[i];
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        ctx.error((*r.get("alertmanagers"))[i],
                  r.childPath("alertmanagers") + "[" + std::to_string(i) + "]",
                  "expected an http:// or https:// URL, got \"" + url + "\"");
      else if (std::find(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i), url) !=
               v->begin() + static_cast<std::ptrdiff_t>(i))
        ctx.error((*r.get("alertmanagers"))[i],
                  r.childPath("alertmanagers") + "[" + std::to_string(i) + "]",
                  "\"" + url + "\" is listed twice; each Alertmanager once");
    }
    a.alertmanagers = *v;
  }
  if (auto v = r.integer("failure_threshold", limits::kThreshold)) a.failureThreshold = *v;
  if (auto v = r.integer("success_threshold", limits::kThreshold)) a.successThreshold = *v;
  if (auto v = r.duration("resend_interval", limits::kResendInterval)) a.resendInterval = *v;
  if (auto v = r.duration("escalate_after", limits::kEscalateAfter)) a.escalateAfter = *v;
  if (auto v = r.integer("queue_capacity", limits::kQueueCapacity)) a.queueCapacity = *v;
  if (auto v = r.string("external_url")) a.externalUrl = *v;
  if (auto v = r.string("runbook_url")) a.runbookUrlTemplate = *v;
  if (auto v = r.string("dashboard_url")) a.dashboardUrlTemplate = *v;
  if (auto labels = r.get("labels")) {
    MapReader l(ctx, *labels, r.childPath("labels"),
                {"prod", "nonprod", "escalated", "environments", "services"});
    AlertPolicy& p = a.policy;
    if (auto n = l.get("prod"))
      if (auto m = parseLabels(ctx, *n, l.childPath("prod"))) p.prod = *m;
    if (auto n = l.get("nonprod"))
      if (auto m = parseLabels(ctx, *n, l.childPath("nonprod"))) p.nonprod = *m;
    if (auto n = l.get("escalated"))
      if (auto m = parseLabels(ctx, *n, l.childPath("escalated"))) p.escalated = *m;
    if (auto n = l.get("environments"))
      parseLabelsByName(ctx, *n, l.childPath("environments"), p.byEnvironment);
    if (auto n = l.get("services")) parseLabelsByName(ctx, *n, l.childPath("services"), p.byService);
  }
}

void parseMaintenance(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config) {
  MapReader r(ctx, node, "maintenance", {"max_length", "windows"});
  if (!r.isMap()) return;
  Duration maxLength = std::chrono::hours(24);
  if (auto v = r.duration("max_length", limits::kMaintenanceMaxLength)) maxLength = *v;
  auto windows = r.get("windows");
  if (!windows) return;
  if (!windows->IsSequence()) {
    ctx.error(*windows, r.childPath("windows"), "expected a list of windows");
    return;
  }
  std::map<std::string, SourceLocation> names;
  for (std::size_t i = 0; i < windows->size(); ++i) {
    const YAML::Node& wn = (*windows)[i];
    const std::string path = r.childPath("windows") + "[" + std::to_string(i) + "]";
    MapReader w(ctx, wn, path, {"name", "match", "start", "end", "duration", "weekly"});
    if (!w.isMap()) continue;
    MaintenanceWindow window;
    window.name = w.string("name").value_or("window-" + std::to_string(i + 1));
    // The name labels the window's metric series: two windows with one name would share one.
    if (auto [first, inserted] = names.emplace(window.name, ctx.at(wn)); !inserted)
      ctx.error(w.has("name") ? *w.get("name") : wn, w.childPath("name"),
                "duplicate maintenance window name \"" + window.name + "\" (first at line " +
                    std::to_string(first->second.line) + ")");
    w.requireKey("match", "which targets (service, hostname, check)");
    w.requireKey("start", "an RFC 3339 time like 2026-11-22T01:00:00Z");
    if (auto match = w.get("match")) {
      MapReader m(ctx, *match, w.childPath("match"), {"service", "hostname", "check"});
      window.service = m.string("service");
      window.hostname = m.string("hostname");
      window.check = m.string("check");
    }
    bool timesOk = true;
    auto timeOf = [&](const char* key) -> std::optional<SystemTime> {
      auto text = w.string(key);
      if (!text) return std::nullopt;
      auto t = parseTimestamp(*text);
      if (!t) {
        ctx.error(*w.get(key), w.childPath(key),
                  "invalid time \"" + *text +
                      "\"; expected RFC 3339 like 2026-11-22T01:00:00Z, years 1970 to 2200");
        timesOk = false;
      }
      return t;
    };
    auto start = timeOf("start");
    auto end = timeOf("end");
    auto duration = w.duration("duration", limits::kWindowDuration);
    if (w.has("end") && w.has("duration"))
      ctx.error(wn, path, "give either end or duration, not both");
    if (!w.has("end") && !w.has("duration"))
      ctx.error(wn, path, "a maintenance window must end: give end or duration");
    if (start) window.start = *start;
    if (end) window.end = *end;
    else if (start && duration) window.end = *start + *duration;
    if (auto days = w.stringList("weekly")) {
      for (std::size_t d = 0; d < days->size(); ++d) {
        if (auto day = parseWeekday((*days)[d])) window.weekdays.push_back(*day);
        else
          ctx.error((*w.get("weekly"))[d], w.childPath("weekly") + "[" + std::to_string(d) + "]",
                    "expected a weekday: mon, tue, wed, thu, fri, sat, sun or the full name; "
                    "got \"" + (*days)[d] + "\"");
      }
    }
    if (timesOk && start && (end || duration)) {
      for (const auto& problem : validateWindow(window, maxLength))
        ctx.error(wn, path, problem);
    }
    config.maintenance.push_back(std::move(window));
  }
}

}  // namespace envprobe
