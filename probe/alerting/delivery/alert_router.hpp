#pragma once
// Agent-side alerting: probe results -> AlertTracker (pure state machine) -> AlertmanagerClient.
// Maintenance windows hold alerts back while probing and metrics go on.
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>

#include "probe/alerting/alert_tracker.hpp"
#include "probe/alerting/delivery/alertmanager_client.hpp"
#include "probe/config/config_model.hpp"
#include "checks/probe_result.hpp"
#include "probe/engine/result_sink.hpp"

namespace envprobe {

class AlertRouter : public ResultSink {
 public:
  AlertRouter(const AgentConfig& config, EventLoop& loop, CurlDriver& curl,
              prometheus::Registry& registry);
  ~AlertRouter() override;

  void onResult(const ProbeResult& result) override;
  // The series is gone (target removed, address left DNS): a firing alert resolves now.
  void onSeriesRemoved(const Target& target, const std::string& address) override;
  // Alerts not yet delivered to every Alertmanager (the shutdown sequence waits, bounded).
  std::size_t undelivered() const { return client_.queued(); }

 private:
  void dispatch();
  void armTimer();
  bool held(const AlertSubject& subject, SystemTime now) const;
  void updateGauges(SystemTime now);

  const AgentConfig& config_;
  EventLoop& loop_;
  AlertTracker tracker_;
  AlertmanagerClient client_;
  prometheus::Family<prometheus::Gauge>& firing_;
  prometheus::Family<prometheus::Gauge>& maintenance_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> firingGauges_;
  std::vector<prometheus::Gauge*> maintenanceGauges_;  // one per window, config order
  EventLoop::TimerId timer_ = 0;
  EventLoop::TimePoint timerAt_ = EventLoop::TimePoint::max();
};

}  // namespace envprobe
