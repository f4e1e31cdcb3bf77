#pragma once
// Alerting values: routing policy, settings, and what the alert state machine consumes and emits.
// Pure data; the Alertmanager client turns OutgoingAlert into the v2 API's JSON.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "probe/base/core_types.hpp"

namespace envprobe {

using SystemTime = std::chrono::system_clock::time_point;
using LabelMap = std::map<std::string, std::string>;

// Labels that route an alert. Defaults cover the common case: prod pages, non-prod files a ticket
// in a low-priority queue. Maps merge in order tier → environment → service (→ escalated); an
// override with an empty value removes the label.
struct AlertPolicy {
  LabelMap prod = {{"severity", "page"}, {"priority", "P1"}};
  LabelMap nonprod = {{"severity", "ticket"}, {"priority", "P4"}, {"queue", "nonprod"}};
  LabelMap escalated = {{"priority", "P3"}, {"escalated", "true"}};
  std::map<std::string, LabelMap> byEnvironment;
  std::map<std::string, LabelMap> byService;
};

struct AlertSettings {
  std::vector<std::string> alertmanagers;  // base URLs
  int failureThreshold = 3;                // consecutive failures before firing
  int successThreshold = 2;                // consecutive successes before resolving
  Duration resendInterval = std::chrono::minutes(1);
  Duration escalateAfter = std::chrono::hours(24);  // non-prod only; <= 0 disables
  Duration resolvedRetention = std::chrono::minutes(15);
  std::size_t queueCapacity = 10000;  // alerts buffered while Alertmanager is down
  std::string externalUrl;            // the agent's status page; generatorURL base
  // {env} {service} {check} {hostname} {visibility} {address} are replaced (URL-encoded).
  std::string runbookUrlTemplate;
  std::string dashboardUrlTemplate;
  AlertPolicy policy;
};

// One probe target as alerting sees it. `key` identifies it across results and config reloads.
struct AlertSubject {
  std::string key;
  std::string env;
  Tier tier = Tier::NonProd;
  std::string service;
  std::string check;
  std::string hostname;
  std::string visibility;  // "internal" | "public"
  std::string address;     // pinned backend address; empty when not pinned
  Duration probeInterval = std::chrono::seconds(30);
};

struct ProbeOutcome {
  bool ok = false;
  std::string reason;  // short failure class, e.g. "http_status"
  std::string detail;  // human text, e.g. "HTTP 400 Invalid Hostname"
  int statusCode = 0;  // HTTP status when there was one
};

struct OutgoingAlert {
  LabelMap labels;
  LabelMap annotations;
  SystemTime startsAt;
  SystemTime endsAt;
  std::string generatorUrl;  // empty when no external URL is configured
  bool resolved = false;
};

// Routing labels for a target: tier defaults, then environment, then service overrides, then
// (when escalated) the escalation labels. Empty values remove a label.
LabelMap policyLabels(const AlertPolicy& policy, Tier tier, const std::string& env,
                      const std::string& service, bool escalated);

}  // namespace envprobe
