#pragma once
// Agent-side alerting: probe results -> AlertTracker (pure state machine) -> AlertmanagerClient.
// Maintenance windows hold alerts back while probing and metrics go on.
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <functional>
#include <string>

#include "probe/alerting/alert_tracker.hpp"
#include "probe/alerting/delivery/alert_sender.hpp"
#include "probe/config/config_model.hpp"
#include "checks/probe_result.hpp"
#include "probe/engine/result_sink.hpp"
#include "probe/io/timers.hpp"

namespace envprobe {

class AlertRouter : public ResultSink {
 public:
  using WallClock = std::function<SystemTime()>;

  // `timers` drives the housekeeping timer, `wallNow` is the wall clock (alerts carry wall
  // time; maintenance windows are wall time): both simulated in the unit tests.
  AlertRouter(std::shared_ptr<const AgentConfig> config, Timers& timers, AlertSender& sender,
              prometheus::Registry& registry,
              WallClock wallNow = [] { return std::chrono::system_clock::now(); });
  ~AlertRouter() override;

  // A reload: alert state is kept per target; new alerting settings and maintenance windows
  // apply from now on.
  void reconfigure(std::shared_ptr<const AgentConfig> config);

  void onResult(const ProbeResult& result) override;
  // The series is gone (target removed, address left DNS): a firing alert resolves now.
  void onSeriesRemoved(const Target& target, const std::string& address) override;
  // Alerts not yet delivered to every Alertmanager (the shutdown sequence waits, bounded).
  std::size_t undelivered() const { return sender_.queued(); }
  // Any thread: the seriesKey of each series whose alert fires now (held ones included).
  std::set<std::string> firingKeys() const;

 private:
  void dispatch();
  void armTimer();
  bool held(const AlertSubject& subject, SystemTime now) const;
  void updateGauges(SystemTime now);

  void addMaintenanceGauges();
  void noteFiring(const std::string& key);

  std::shared_ptr<const AgentConfig> config_;
  Timers& timers_;
  WallClock wallNow_;
  AlertTracker tracker_;
  AlertSender& sender_;
  prometheus::Family<prometheus::Gauge>& firing_;
  prometheus::Family<prometheus::Gauge>& maintenance_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> firingGauges_;
  std::vector<prometheus::Gauge*> maintenanceGauges_;  // one per window, config order
  OwnedTimer timer_;
  mutable std::mutex firingMutex_;
  std::set<std::string> firingKeys_;
};

}  // namespace envprobe
