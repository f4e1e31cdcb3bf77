#include "probe/alerting/delivery/alert_router.hpp"

#include <algorithm>

namespace envprobe {

namespace {

// Maintenance windows start and end on wall-clock time the tracker does not know about, so the
// router also looks at least this often.
constexpr auto kHousekeeping = std::chrono::seconds(1);

}  // namespace

AlertRouter::AlertRouter(std::shared_ptr<const AgentConfig> config, Timers& timers, AlertSender& sender,
                         prometheus::Registry& registry, WallClock wallNow)
    : config_(std::move(config)),
      timers_(timers),
      wallNow_(std::move(wallNow)),
      tracker_(config_->alerting),
      sender_(sender),
      firing_(prometheus::BuildGauge()
                  .Name("envprobe_alerts_firing")
                  .Help("Alerts firing now, by environment and severity")
                  .Register(registry)),
      maintenance_(prometheus::BuildGauge()
                       .Name("envprobe_maintenance_active")
                       .Help("1 while a maintenance window is active (alerts held back)")
                       .Register(registry)),
      timer_(timers) {
  addMaintenanceGauges();
  updateGauges(wallNow_());
  armTimer();
}

AlertRouter::~AlertRouter() {
  // Alerting may be turned off by a reload: its gauges go with it instead of freezing.
  for (auto& [key, gauge] : firingGauges_) firing_.Remove(gauge);
  for (auto* gauge : maintenanceGauges_) maintenance_.Remove(gauge);
}

void AlertRouter::addMaintenanceGauges() {
  for (const auto& window : config_->maintenance)
    maintenanceGauges_.push_back(&maintenance_.Add({{"window", window.name}}));
}

void AlertRouter::reconfigure(std::shared_ptr<const AgentConfig> config) {
  for (auto* gauge : maintenanceGauges_) maintenance_.Remove(gauge);
  maintenanceGauges_.clear();
  config_ = std::move(config);
  tracker_.reconfigure(config_->alerting);
  addMaintenanceGauges();
  updateGauges(wallNow_());
  dispatch();  // a window removed by the reload releases its held alerts within a second
}

bool AlertRouter::held(const AlertSubject& subject, SystemTime now) const {
  return std::any_of(config_->maintenance.begin(), config_->maintenance.end(),
                     [&](const MaintenanceWindow& w) {
                       return windowActive(w, now) &&
                              windowMatches(w, subject.service, subject.hostname, subject.check);
                     });
}

void AlertRouter::onResult(const ProbeResult& result) {
  const Target& t = result.target->target;
  AlertSubject subject;
  subject.key = seriesKey(t.id, result.address);
  subject.env = t.env;
  subject.tier = t.tier;
  subject.service = t.service;
  subject.check = t.check;
  subject.hostname = t.hostname;
  subject.visibility = toString(t.visibility);
  subject.address = result.address;
  subject.probeInterval = t.interval;
  ProbeOutcome outcome;
  outcome.ok = result.verdict.ok;
  outcome.reason = toString(result.verdict.reason);
  outcome.detail = result.verdict.detail;
  outcome.statusCode = result.observation.statusCode;
  tracker_.observe(subject, outcome, result.finishedAt);
  dispatch();
  noteFiring(subject.key);
}

void AlertRouter::noteFiring(const std::string& key) {
  const bool firing = tracker_.firing(key);
  std::lock_guard lock(firingMutex_);
  if (firing) firingKeys_.insert(key);
  else firingKeys_.erase(key);
}

std::set<std::string> AlertRouter::firingKeys() const {
  std::lock_guard lock(firingMutex_);
  return firingKeys_;
}

void AlertRouter::onSeriesRemoved(const Target& target, const std::string& address) {
  tracker_.forget(seriesKey(target.id, address), wallNow_());
  dispatch();
  noteFiring(seriesKey(target.id, address));
}

void AlertRouter::dispatch() {
  const SystemTime now = wallNow_();
  auto alerts = tracker_.due(now, [this, now](const AlertSubject& s) { return held(s, now); });
  sender_.send(alerts);
  if (!alerts.empty()) updateGauges(now);
  armTimer();
}

void AlertRouter::armTimer() {
  auto when = timers_.now() + kHousekeeping;
  if (auto next = tracker_.nextDue()) {
    const auto untilNext = *next - wallNow_();
    when = std::min(when, timers_.now() + std::max<std::chrono::system_clock::duration>(
                                              untilNext, std::chrono::milliseconds(1)));
  }
  if (timer_.armed() && when >= timer_.at()) return;
  timer_.arm(when, [this] {
    updateGauges(wallNow_());
    dispatch();
  });
}

void AlertRouter::updateGauges(SystemTime now) {
  for (auto& [key, gauge] : firingGauges_) gauge->Set(0);
  for (const auto& [key, count] : tracker_.firingByEnvSeverity()) {
    auto& gauge = firingGauges_[key];
    if (!gauge) gauge = &firing_.Add({{"env", key.first}, {"severity", key.second}});
    gauge->Set(static_cast<double>(count));
  }
  for (std::size_t i = 0; i < maintenanceGauges_.size(); ++i)
    maintenanceGauges_[i]->Set(windowActive(config_->maintenance[i], now) ? 1 : 0);
}

}  // namespace envprobe
