#pragma once
// Pushes alerts to every configured Alertmanager (the HA contract: all of them get everything)
// through its v2 API, on the curl multi loop, never blocking. While an Alertmanager is
// unreachable its alerts queue (bounded, newest version of each alert kept; drops counted) and are
// delivered with backoff when it returns.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probe/alerting/alert_model.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/event_loop.hpp"

namespace envprobe {

// The v2 API body for a batch of alerts.
std::string alertsToJson(const std::vector<OutgoingAlert>& alerts);
std::string formatRfc3339(SystemTime time);
// Identity of an alert in the queue: its label set.
std::string alertFingerprint(const LabelMap& labels);

class AlertmanagerClient {
 public:
  AlertmanagerClient(EventLoop& loop, CurlDriver& curl, const std::vector<std::string>& urls,
                     std::size_t queueCapacity, prometheus::Registry& registry);
  ~AlertmanagerClient();

  void send(const std::vector<OutgoingAlert>& alerts);
  std::size_t queued() const;

 private:
  struct Target;
  void flush(Target& target);
  void scheduleRetry(Target& target);
  void compactOrder(Target& target);

  EventLoop& loop_;
  CurlDriver& curl_;
  std::size_t capacity_;
  std::vector<std::unique_ptr<Target>> targets_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Counter& dropped_;
};

}  // namespace envprobe
