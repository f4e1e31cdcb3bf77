#include "probe/alerting/alert_tracker.hpp"

#include <algorithm>

namespace envprobe {

namespace {

void mergeLabels(LabelMap& into, const LabelMap& overrides) {
  for (const auto& [name, value] : overrides) {
    if (value.empty()) {
      into.erase(name);  // lets an environment or service drop a default, e.g. queue
    } else {
      into[name] = value;
    }
  }
}

const std::string* placeholderValue(std::string_view name, const AlertSubject& subject) {
  if (name == "env") return &subject.env;
  if (name == "service") return &subject.service;
  if (name == "check") return &subject.check;
  if (name == "hostname") return &subject.hostname;
  if (name == "visibility") return &subject.visibility;
  if (name == "address") return &subject.address;
  return nullptr;
}

}  // namespace

LabelMap policyLabels(const AlertPolicy& policy, Tier tier, const std::string& env,
                      const std::string& service, bool escalated) {
  LabelMap labels;
  mergeLabels(labels, tier == Tier::Prod ? policy.prod : policy.nonprod);
  if (auto it = policy.byEnvironment.find(env); it != policy.byEnvironment.end())
    mergeLabels(labels, it->second);
  if (auto it = policy.byService.find(service); it != policy.byService.end())
    mergeLabels(labels, it->second);
  if (escalated) mergeLabels(labels, policy.escalated);
  return labels;
}

std::string expandUrlTemplate(const std::string& pattern, const AlertSubject& subject) {
  std::string out;
  out.reserve(pattern.size() + 32);
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      const auto close = pattern.find('}', i + 1);
      if (close != std::string::npos) {
        const std::string_view name(pattern.data() + i + 1, close - i - 1);
        if (const std::string* value = placeholderValue(name, subject)) {
          out += urlEncode(*value);
          i = close + 1;
          continue;
        }
      }
    }
    out += pattern[i++];
  }
  return out;
}

std::string alertSummary(const AlertSubject& subject, const ProbeOutcome& outcome) {
  std::string text = subject.service + "/" + subject.check + ": " + subject.visibility +
                     " hostname " + subject.hostname;
  if (!subject.address.empty()) text += " via " + subject.address;
  text += " failing in " + subject.env;
  if (!outcome.reason.empty()) text += ": " + outcome.reason;
  if (outcome.statusCode > 0) text += " (HTTP " + std::to_string(outcome.statusCode) + ")";
  return text;
}

AlertTracker::AlertTracker(AlertSettings settings) { reconfigure(std::move(settings)); }

void AlertTracker::reconfigure(AlertSettings settings) {
  settings_ = std::move(settings);
  // Guard the state machine against values config validation should already have rejected.
  settings_.failureThreshold = std::max(settings_.failureThreshold, 1);
  settings_.successThreshold = std::max(settings_.successThreshold, 1);
  if (settings_.resendInterval <= Duration::zero())
    settings_.resendInterval = std::chrono::minutes(1);
  if (settings_.resolvedRetention < Duration::zero())
    settings_.resolvedRetention = Duration::zero();
}

void AlertTracker::observe(const AlertSubject& subject, const ProbeOutcome& outcome,
                           SystemTime now) {
  auto it = entries_.find(subject.key);
  if (outcome.ok) {
    if (it == entries_.end()) return;  // the hot path: passing and never failed
    Entry& entry = it->second;
    entry.failures = 0;
    if (entry.phase == Phase::Failing) {
      erase(it);
    } else if (entry.phase == Phase::Firing && ++entry.successes >= settings_.successThreshold) {
      resolve(it, now);
    }
    return;
  }

  if (it == entries_.end()) it = entries_.try_emplace(subject.key).first;
  Entry& entry = it->second;
  if (entry.phase == Phase::Firing) {
    entry.subject.probeInterval = subject.probeInterval;  // labels stay as first sent
  } else {
    entry.subject = subject;
  }
  entry.lastFailure = outcome;
  entry.successes = 0;
  if (entry.failures < settings_.failureThreshold) ++entry.failures;
  if (entry.phase != Phase::Firing && entry.failures >= settings_.failureThreshold)
    startFiring(entry, now);
}

void AlertTracker::forget(const std::string& key, SystemTime now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.failures = 0;
  if (it->second.phase == Phase::Failing) {
    erase(it);
  } else if (it->second.phase == Phase::Firing) {
    resolve(it, now);
  }  // Resolved: finish re-sending the resolution, then it goes
}

std::vector<OutgoingAlert> AlertTracker::due(SystemTime now, const HeldFn& held) {
  std::vector<OutgoingAlert> out;
  releaseHeld(now, held);
  while (!schedule_.empty() && schedule_.begin()->first <= now) {
    Entry& entry = *schedule_.begin()->second;
    schedule_.erase(schedule_.begin());
    entry.slot.reset();
    if (entry.phase == Phase::Firing) {
      if (held && held(entry.subject)) {
        entry.held = true;  // Alertmanager lets the last send expire; we resume after
        heldKeys_.insert(entry.subject.key);
        continue;
      }
      sendFiring(entry, now, out);
    } else if (entry.phase == Phase::Resolved) {
      sendResolved(entries_.find(entry.subject.key), now, out);
    }
  }
  return out;
}

std::optional<SystemTime> AlertTracker::nextDue() const {
  std::optional<SystemTime> next;
  if (!schedule_.empty()) next = schedule_.begin()->first;
  if (!heldKeys_.empty()) {
    const SystemTime recheck = heldCheckedAt_ + kHeldRecheck;
    next = next ? std::min(*next, recheck) : recheck;
  }
  return next;
}

std::map<std::pair<std::string, std::string>, std::size_t> AlertTracker::firingByEnvSeverity()
    const {
  std::map<std::pair<std::string, std::string>, std::size_t> counts;
  for (const auto& [key, entry] : entries_) {
    if (entry.phase != Phase::Firing) continue;
    const LabelMap& labels = entry.escalated ? entry.escalatedLabels : entry.labels;
    const auto severity = labels.find("severity");
    ++counts[{entry.subject.env, severity == labels.end() ? std::string() : severity->second}];
  }
  return counts;
}

bool AlertTracker::firing(const std::string& key) const {
  const auto it = entries_.find(key);
  return it != entries_.end() && it->second.phase == Phase::Firing;
}

void AlertTracker::startFiring(Entry& entry, SystemTime now) {
  entry.phase = Phase::Firing;
  entry.startsAt = now;
  entry.successes = 0;
  entry.escalated = false;
  entry.sent = false;
  entry.escalatedSent = false;
  entry.labels = identityLabels(entry.subject, false);
  entry.escalatedLabels.clear();
  if (entry.subject.tier == Tier::NonProd && settings_.escalateAfter > Duration::zero()) {
    LabelMap raised = identityLabels(entry.subject, true);
    if (raised != entry.labels) entry.escalatedLabels = std::move(raised);
  }
  schedule(entry, now);
}

void AlertTracker::resolve(Entries::iterator it, SystemTime now) {
  Entry& entry = it->second;
  entry.phase = Phase::Resolved;
  entry.resolvedAt = now;
  entry.successes = 0;
  if (!entry.sent && !entry.escalatedSent) {
    // Alertmanager never saw it (held or not yet due): there is nothing to resolve.
    if (entry.failures > 0) {
      entry.phase = Phase::Failing;
      unschedule(entry);
    } else {
      erase(it);
    }
    return;
  }
  schedule(entry, now);  // resolutions are never held
}

void AlertTracker::sendFiring(Entry& entry, SystemTime now, std::vector<OutgoingAlert>& out) {
  if (!entry.escalated && canEscalate(entry) && now - entry.startsAt >= settings_.escalateAfter)
    entry.escalated = true;
  // Long enough to survive a few missed resends, short enough that a dead agent's alerts expire.
  const SystemTime endsAt =
      now + 4 * std::max(entry.subject.probeInterval, settings_.resendInterval);
  out.push_back(makeAlert(entry, entry.labels, endsAt, false));
  entry.sent = true;
  if (entry.escalated) {
    out.push_back(makeAlert(entry, entry.escalatedLabels, endsAt, false));
    entry.escalatedSent = true;
  }
  SystemTime next = now + settings_.resendInterval;
  if (!entry.escalated && canEscalate(entry))
    next = std::min(next, entry.startsAt + settings_.escalateAfter);  // escalate on time
  schedule(entry, next);
}

void AlertTracker::sendResolved(Entries::iterator it, SystemTime now,
                                std::vector<OutgoingAlert>& out) {
  Entry& entry = it->second;
  if (entry.sent) out.push_back(makeAlert(entry, entry.labels, entry.resolvedAt, true));
  if (entry.escalatedSent)
    out.push_back(makeAlert(entry, entry.escalatedLabels, entry.resolvedAt, true));
  const SystemTime next = now + settings_.resendInterval;
  if (next < entry.resolvedAt + settings_.resolvedRetention) {
    schedule(entry, next);
  } else if (entry.failures > 0) {
    entry.phase = Phase::Failing;  // failing again, below threshold: keep counting
    entry.sent = false;
    entry.escalatedSent = false;
  } else {
    erase(it);
  }
}

void AlertTracker::releaseHeld(SystemTime now, const HeldFn& held) {
  if (heldKeys_.empty() || now < heldCheckedAt_ + kHeldRecheck) return;
  heldCheckedAt_ = now;
  for (auto key = heldKeys_.begin(); key != heldKeys_.end();) {
    auto it = entries_.find(*key);
    if (it != entries_.end() && held && held(it->second.subject)) {
      ++key;
      continue;
    }
    key = heldKeys_.erase(key);
    if (it == entries_.end()) continue;
    it->second.held = false;
    schedule(it->second, now);  // picked up by due()'s loop right after
  }
}

void AlertTracker::schedule(Entry& entry, SystemTime at) {
  unschedule(entry);
  entry.slot = schedule_.emplace(at, &entry);
}

void AlertTracker::unschedule(Entry& entry) {
  if (entry.slot) {
    schedule_.erase(*entry.slot);
    entry.slot.reset();
  }
  if (entry.held) {
    heldKeys_.erase(entry.subject.key);
    entry.held = false;
  }
}

void AlertTracker::erase(Entries::iterator it) {
  unschedule(it->second);
  entries_.erase(it);
}

bool AlertTracker::canEscalate(const Entry& entry) const { return !entry.escalatedLabels.empty(); }

LabelMap AlertTracker::identityLabels(const AlertSubject& subject, bool escalated) const {
  LabelMap labels =
      policyLabels(settings_.policy, subject.tier, subject.env, subject.service, escalated);
  // Identity last: a policy must not be able to merge two targets into one alert.
  labels["alertname"] = "ProbeFailed";
  labels["env"] = subject.env;
  labels["service"] = subject.service;
  labels["check"] = subject.check;
  labels["hostname"] = subject.hostname;
  labels["visibility"] = subject.visibility;
  if (subject.address.empty()) {
    labels.erase("address");
  } else {
    labels["address"] = subject.address;
  }
  return labels;
}

OutgoingAlert AlertTracker::makeAlert(const Entry& entry, const LabelMap& labels, SystemTime endsAt,
                                      bool resolved) const {
  OutgoingAlert alert;
  alert.labels = labels;
  alert.startsAt = entry.startsAt;
  alert.endsAt = endsAt;
  alert.resolved = resolved;
  const AlertSubject& subject = entry.subject;
  const ProbeOutcome& outcome = entry.lastFailure;
  alert.annotations["summary"] = alertSummary(subject, outcome);
  const std::string& description = outcome.detail.empty() ? outcome.reason : outcome.detail;
  if (!description.empty()) alert.annotations["description"] = description;
  if (!settings_.runbookUrlTemplate.empty())
    alert.annotations["runbook_url"] = expandUrlTemplate(settings_.runbookUrlTemplate, subject);
  if (!settings_.dashboardUrlTemplate.empty())
    alert.annotations["dashboard_url"] = expandUrlTemplate(settings_.dashboardUrlTemplate, subject);
  if (!settings_.externalUrl.empty()) {
    std::string base = settings_.externalUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();
    alert.generatorUrl = base + "/?service=" + urlEncode(subject.service);
  }
  return alert;
}

}  // namespace envprobe
