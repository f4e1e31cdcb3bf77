#pragma once
// Pushes alerts to every configured Alertmanager (the HA contract: all of them get everything)
// through its v2 API, on the curl multi loop, never blocking. While an Alertmanager is
// unreachable its alerts queue (bounded, newest version of each alert kept; drops counted) and are
// delivered with backoff when it returns. A batch it refuses (400, 413, 422) is sent again in
// halves until the refused alerts stand alone; only those are dropped, so one bad alert never
// takes the rest of its batch (resolutions included) with it.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probe/alerting/alert_model.hpp"
#include "probe/alerting/delivery/alert_sender.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/event_loop.hpp"

namespace envprobe {

// The v2 API body for a batch of alerts; always valid UTF-8 JSON (invalid bytes become U+FFFD).
std::string alertsToJson(const std::vector<OutgoingAlert>& alerts);
std::string formatRfc3339(SystemTime time);
// Identity of an alert in the queue: its label set.
std::string alertFingerprint(const LabelMap& labels);

// What an Alertmanager's answer means for the batch it answered.
enum class BatchAction {
  Delivered,  // 2xx
  Retry,      // transfer error, 5xx, 401/403/404/408/429, anything else: keep queued, back off
  Split,      // 400/413/422 for several alerts: some are refused; send the halves on their own
  Drop,       // 400/413/422 for one alert: that alert is refused; retrying cannot help
};
BatchAction decideBatchAction(bool transferred, long status, std::size_t batchSize);

// The parts of refused batches still to be sent on their own, depth first so that alerts keep
// their order and a refused alert is isolated in about 2*log2(batch) requests.
class RefusalBisect {
 public:
  bool active() const { return !parts_.empty(); }
  // The next part to send (removed: answer it with split() or retryLater(), or forget it).
  std::vector<std::string> takeNext();
  // The batch was refused: its two halves go next (a single alert has no halves).
  void split(const std::vector<std::string>& batch);
  // The part failed for a transient reason: it goes next again, whole.
  void retryLater(std::vector<std::string> part);

 private:
  std::deque<std::vector<std::string>> parts_;
};

class AlertmanagerClient : public AlertSender {
 public:
  AlertmanagerClient(EventLoop& loop, CurlDriver& curl, const std::vector<std::string>& urls,
                     std::size_t queueCapacity, prometheus::Registry& registry);
  ~AlertmanagerClient() override;

  void send(const std::vector<OutgoingAlert>& alerts) override;
  std::size_t queued() const override;
  // A reload: an Alertmanager still listed keeps its queue and its retry state; a new one starts
  // empty (firing alerts reach it with their next resend); a removed one's queue is dropped.
  void reconfigure(const std::vector<std::string>& urls, std::size_t queueCapacity);

 private:
  struct Target;
  std::unique_ptr<Target> makeTarget(const std::string& url);
  void release(Target& target);  // cancels its timer and transfer
  void flush(Target& target);
  void onAnswer(Target& target, bool transferred, const std::string& err, long status);
  void dropRefused(Target& target, long status);
  void scheduleRetry(Target& target);
  void compactOrder(Target& target);

  EventLoop& loop_;
  CurlDriver& curl_;
  std::size_t capacity_;
  std::vector<std::unique_ptr<Target>> targets_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Counter& dropped_;  // queue overflow
};

}  // namespace envprobe
