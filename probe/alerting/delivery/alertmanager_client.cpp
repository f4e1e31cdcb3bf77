#include "probe/alerting/delivery/alertmanager_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "probe/base/logging.hpp"

namespace envprobe {

namespace {

constexpr std::size_t kBatchSize = 500;
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kMinBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::seconds(8);

}  // namespace

std::string formatRfc3339(SystemTime time) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string alertFingerprint(const LabelMap& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += k + '\x1f' + v + '\x1e';
  return out;
}

std::string alertsToJson(const std::vector<OutgoingAlert>& alerts) {
  nlohmann::json body = nlohmann::json::array();
  for (const auto& a : alerts) {
    nlohmann::json alert = {{"labels", a.labels},
                            {"annotations", a.annotations},
                            {"startsAt", formatRfc3339(a.startsAt)},
                            {"endsAt", formatRfc3339(a.endsAt)}};
    if (!a.generatorUrl.empty()) alert["generatorURL"] = a.generatorUrl;
    body.push_back(std::move(alert));
  }
  return body.dump();
}

struct AlertmanagerClient::Target {
  std::string url;  // .../api/v2/alerts
  std::string name;  // as configured, the metric label
  std::map<std::string, OutgoingAlert> queue;  // fingerprint -> newest version
  std::vector<std::string> order;  // fingerprints in arrival order (oldest first)
  bool inFlight = false;
  EventLoop::TimerId retryTimer = 0;
  std::chrono::milliseconds backoff = kMinBackoff;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::vector<std::string> sending;
  prometheus::Counter* success = nullptr;
  prometheus::Counter* failure = nullptr;
};

AlertmanagerClient::AlertmanagerClient(EventLoop& loop, CurlDriver& curl,
                                       const std::vector<std::string>& urls,
                                       std::size_t queueCapacity, prometheus::Registry& registry)
    : loop_(loop),
      curl_(curl),
      capacity_(std::max<std::size_t>(queueCapacity, 1)),
      sent_(prometheus::BuildCounter()
                .Name("envprobe_alerts_sent_total")
                .Help("Alerts sent to each Alertmanager, by result")
                .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("envprobe_alerts_queue_dropped_total")
                   .Help("Alerts dropped because an Alertmanager's queue was full")
                   .Register(registry)
                   .Add({})) {
  for (const auto& url : urls) {
    auto t = std::make_unique<Target>();
    t->name = url;
    std::string base = url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    t->url = base + "/api/v2/alerts";
    t->success = &sent_.Add({{"alertmanager", url}, {"result", "success"}});
    t->failure = &sent_.Add({{"alertmanager", url}, {"result", "failure"}});
    targets_.push_back(std::move(t));
  }
}

AlertmanagerClient::~AlertmanagerClient() {
  for (auto& t : targets_) {
    if (t->retryTimer) loop_.cancelTimer(t->retryTimer);
    if (t->easy) {
      curl_.abort(t->easy);
      curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
  }
}

std::size_t AlertmanagerClient::queued() const {
  std::size_t n = 0;
  for (const auto& t : targets_) n += t->queue.size();
  return n;
}

void AlertmanagerClient::send(const std::vector<OutgoingAlert>& alerts) {
  if (alerts.empty()) return;
  for (auto& t : targets_) {
    for (const auto& alert : alerts) {
      const std::string fp = alertFingerprint(alert.labels);
      auto [it, inserted] = t->queue.insert_or_assign(fp, alert);
      if (inserted) t->order.push_back(fp);
    }
    while (t->queue.size() > capacity_) {
      // Oldest first; skip fingerprints already replaced or in flight.
      auto victim = std::find_if(t->order.begin(), t->order.end(), [&](const std::string& fp) {
        return t->queue.count(fp) &&
               std::find(t->sending.begin(), t->sending.end(), fp) == t->sending.end();
      });
      if (victim == t->order.end()) break;
      t->queue.erase(*victim);
      t->order.erase(victim);
      dropped_.Increment();
    }
    if (!t->inFlight && !t->retryTimer) flush(*t);
  }
}

void AlertmanagerClient::compactOrder(Target& t) {
  t.order.erase(std::remove_if(t.order.begin(), t.order.end(),
                               [&](const std::string& fp) { return !t.queue.count(fp); }),
                t.order.end());
  t.sending.clear();
}

void AlertmanagerClient::flush(Target& t) {
  if (t.queue.empty() || t.inFlight) return;
  std::vector<OutgoingAlert> batch;
  t.sending.clear();
  for (const auto& fp : t.order) {
    auto it = t.queue.find(fp);
    if (it == t.queue.end()) continue;
    batch.push_back(it->second);
    t.sending.push_back(fp);
    if (batch.size() == kBatchSize) break;
  }
  t.body = alertsToJson(batch);
  if (!t.easy) {
    t.easy = curl_easy_init();
    t.headers = curl_slist_append(nullptr, "Content-Type: application/json");
  }
  curl_easy_reset(t.easy);
  curl_easy_setopt(t.easy, CURLOPT_URL, t.url.c_str());
  curl_easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, t.headers);
  curl_easy_setopt(t.easy, CURLOPT_POSTFIELDS, t.body.c_str());
  curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t.body.size()));
  curl_easy_setopt(t.easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(kRequestTimeout).count()));
  curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION,
                   +[](char*, std::size_t size, std::size_t n, void*) { return size * n; });
  t.inFlight = true;
  curl_.start(t.easy, [this, &t, count = batch.size()](CURLcode code) {
    t.inFlight = false;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && status >= 200 && status < 300) {
      t.success->Increment(static_cast<double>(count));
      for (const auto& fp : t.sending) t.queue.erase(fp);
      compactOrder(t);
      t.backoff = kMinBackoff;
      flush(t);
      return;
    }
    t.failure->Increment(static_cast<double>(count));
    logWarn("alertmanager unreachable, alerts kept queued",
            {{"alertmanager", t.name},
             {"err", code == CURLE_OK ? "HTTP " + std::to_string(status) : curl_easy_strerror(code)},
             {"queued", std::to_string(t.queue.size())}});
    // 4xx other than 429 means the alerts themselves are refused: retrying cannot help.
    if (code == CURLE_OK && status >= 400 && status < 500 && status != 429) {
      for (const auto& fp : t.sending) t.queue.erase(fp);
      compactOrder(t);
    }
    scheduleRetry(t);
  });
}

void AlertmanagerClient::scheduleRetry(Target& t) {
  t.sending.clear();
  t.retryTimer = loop_.addTimer(loop_.now() + t.backoff, [this, &t] {
    t.retryTimer = 0;
    flush(t);
  });
  t.backoff = std::min<std::chrono::milliseconds>(t.backoff * 2, kMaxBackoff);
}

}  // namespace envprobe
