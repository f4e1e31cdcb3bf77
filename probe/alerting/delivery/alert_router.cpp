#include "probe/alerting/delivery/alert_router.hpp"

#include <algorithm>

namespace envprobe {

namespace {

// Maintenance windows start and end on wall-clock time the tracker does not know about, so the
// router also looks at least this often.
constexpr auto kHousekeeping = std::chrono::seconds(1);

}  // namespace

AlertRouter::AlertRouter(const AgentConfig& config, EventLoop& loop, CurlDriver& curl,
                         prometheus::Registry& registry)
    : config_(config),
      loop_(loop),
      tracker_(config.alerting),
      client_(loop, curl, config.alerting.alertmanagers, config.alerting.queueCapacity, registry),
      firing_(prometheus::BuildGauge()
                  .Name("envprobe_alerts_firing")
                  .Help("Alerts firing now, by environment and severity")
                  .Register(registry)),
      maintenance_(prometheus::BuildGauge()
                       .Name("envprobe_maintenance_active")
                       .Help("1 while a maintenance window is active (alerts held back)")
                       .Register(registry)) {
  for (const auto& window : config.maintenance)
    maintenanceGauges_.push_back(&maintenance_.Add({{"window", window.name}}));
  updateGauges(std::chrono::system_clock::now());
  armTimer();
}

AlertRouter::~AlertRouter() {
  if (timer_) loop_.cancelTimer(timer_);
}

bool AlertRouter::held(const AlertSubject& subject, SystemTime now) const {
  return std::any_of(config_.maintenance.begin(), config_.maintenance.end(),
                     [&](const MaintenanceWindow& w) {
                       return windowActive(w, now) &&
                              windowMatches(w, subject.service, subject.hostname, subject.check);
                     });
}

void AlertRouter::onResult(const ProbeResult& result) {
  const Target& t = result.target->target;
  AlertSubject subject;
  subject.key = t.id + '\n' + result.address;
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
}

void AlertRouter::onSeriesRemoved(const Target& target, const std::string& address) {
  tracker_.forget(target.id + '\n' + address, std::chrono::system_clock::now());
  dispatch();
}

void AlertRouter::dispatch() {
  const SystemTime now = std::chrono::system_clock::now();
  auto alerts = tracker_.due(now, [this, now](const AlertSubject& s) { return held(s, now); });
  client_.send(alerts);
  if (!alerts.empty()) updateGauges(now);
  armTimer();
}

void AlertRouter::armTimer() {
  auto when = loop_.now() + kHousekeeping;
  if (auto next = tracker_.nextDue()) {
    const auto untilNext = *next - std::chrono::system_clock::now();
    when = std::min(when, loop_.now() + std::max<std::chrono::system_clock::duration>(
                                            untilNext, std::chrono::milliseconds(1)));
  }
  if (timer_ && when >= timerAt_) return;
  if (timer_) loop_.cancelTimer(timer_);
  timerAt_ = when;
  timer_ = loop_.addTimer(when, [this] {
    timer_ = 0;
    timerAt_ = EventLoop::TimePoint::max();
    updateGauges(std::chrono::system_clock::now());
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
    maintenanceGauges_[i]->Set(windowActive(config_.maintenance[i], now) ? 1 : 0);
}

}  // namespace envprobe
