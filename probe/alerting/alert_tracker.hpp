#pragma once
// The alert state machine: probe outcomes in, Alertmanager payloads out. Pure: time is passed in.
//
// Per target: failing (below the failure threshold) → firing → resolved (re-sent for the
// retention period) → forgotten. Only targets that have failed at least once, or are firing or
// resolving, have state, so a passing target costs one hash lookup and no allocation.
// Sends follow the Alertmanager client contract: firing alerts are re-sent every resend interval
// with endsAt = now + 4 × max(probe interval, resend interval) so a dead agent's alerts expire;
// resolved alerts carry endsAt = the resolution time. Pending sends sit in a schedule ordered by
// time, so due() touches only what is due.
//
// Escalation keeps the original alert firing and adds a second one with the escalated labels,
// as a second Prometheus rule with a longer `for:` would: the ticket stays open, a louder route
// gets told, and both resolve together.
//
// Maintenance: a firing send that is due while its target is held is parked, not sent; parked
// targets are re-checked on due() (at most once a second) and sent as soon as they are no longer
// held. Resolutions are never held.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "probe/alerting/alert_model.hpp"
#include "probe/base/text.hpp"

namespace envprobe {

// Replaces {env} {service} {check} {hostname} {visibility} {address} with URL-encoded values;
// other text, including unknown {placeholders}, is kept as written.
std::string expandUrlTemplate(const std::string& pattern, const AlertSubject& subject);
// "shop/home: public hostname shop-at.example.com failing in at: http_status (HTTP 400)"
std::string alertSummary(const AlertSubject& subject, const ProbeOutcome& outcome);

class AlertTracker {
 public:
  using HeldFn = std::function<bool(const AlertSubject&)>;

  explicit AlertTracker(AlertSettings settings);
  // A reload: every target keeps its state (counts, firing, resolved); the new thresholds,
  // intervals, templates and policy apply from the next result and the next send on.
  void reconfigure(AlertSettings settings);

  // One probe result for a target.
  void observe(const AlertSubject& subject, const ProbeOutcome& outcome, SystemTime now);
  // The target left the config: a firing alert resolves now, pending failures are dropped.
  void forget(const std::string& key, SystemTime now);

  // Everything to send at `now`: new firing, resends, escalation, resolved and resolved resends.
  // `held(subject)` says whether the subject is in a maintenance window now.
  std::vector<OutgoingAlert> due(SystemTime now, const HeldFn& held);
  // When due() may next return something; may be in the past. nullopt: nothing pending.
  std::optional<SystemTime> nextDue() const;

  // Firing targets by (env, severity label), held ones included; for envprobe_alerts_firing.
  std::map<std::pair<std::string, std::string>, std::size_t> firingByEnvSeverity() const;
  bool firing(const std::string& key) const;
  std::size_t trackedCount() const { return entries_.size(); }  // targets with state
  std::size_t heldCount() const { return heldKeys_.size(); }    // firing sends parked
  const AlertSettings& settings() const { return settings_; }

  // Parked sends are re-checked at most this often (and nextDue() wakes the caller for it).
  static constexpr Duration kHeldRecheck = std::chrono::seconds(1);

 private:
  enum class Phase { Failing, Firing, Resolved };
  struct Entry;
  using Schedule = std::multimap<SystemTime, Entry*>;

  struct Entry {
    AlertSubject subject;
    ProbeOutcome lastFailure;
    Phase phase = Phase::Failing;
    int failures = 0;
    int successes = 0;
    SystemTime startsAt{};
    SystemTime resolvedAt{};
    LabelMap labels;           // fixed while firing so Alertmanager sees one alert
    LabelMap escalatedLabels;  // empty when this target can never escalate
    bool escalated = false;
    bool sent = false;           // the base alert reached due() unheld in this episode
    bool escalatedSent = false;  // likewise for the escalated alert
    bool held = false;           // parked in heldKeys_
    std::optional<Schedule::iterator> slot;
  };
  using Entries = std::unordered_map<std::string, Entry>;

  void startFiring(Entry& entry, SystemTime now);
  void resolve(Entries::iterator it, SystemTime now);
  void sendFiring(Entry& entry, SystemTime now, std::vector<OutgoingAlert>& out);
  void sendResolved(Entries::iterator it, SystemTime now, std::vector<OutgoingAlert>& out);
  void releaseHeld(SystemTime now, const HeldFn& held);
  void schedule(Entry& entry, SystemTime at);
  void unschedule(Entry& entry);
  void erase(Entries::iterator it);
  bool canEscalate(const Entry& entry) const;
  LabelMap identityLabels(const AlertSubject& subject, bool escalated) const;
  OutgoingAlert makeAlert(const Entry& entry, const LabelMap& labels, SystemTime endsAt,
                          bool resolved) const;

  AlertSettings settings_;
  Entries entries_;
  Schedule schedule_;
  std::set<std::string> heldKeys_;  // ordered so released alerts come out deterministically
  SystemTime heldCheckedAt_{};
};

}  // namespace envprobe
