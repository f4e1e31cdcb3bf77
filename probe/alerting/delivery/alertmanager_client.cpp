#include "probe/alerting/delivery/alertmanager_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "probe/base/logging.hpp"
#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

constexpr std::size_t kBatchSize = 500;
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kMinBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::seconds(8);
constexpr std::size_t kMaxAnswerBytes = 4096;  // of an error answer, kept for the log
constexpr std::size_t kLoggedAnswerBytes = 300;

std::string describeLabels(const LabelMap& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) out += (out.size() > 1 ? ", " : "") + k + "=" + v;
  return out + "}";
}

// An Alertmanager's answer is not ours either: cut, then made valid UTF-8 (the logger escapes
// control characters).
std::string sanitizedAnswer(const std::string& answer) {
  std::string text = makeValidUtf8(answer.substr(0, kLoggedAnswerBytes));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (answer.size() > kLoggedAnswerBytes) text += "...";
  return text;
}

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
  // replace: labels and annotations carry target bytes (hostnames, details); invalid UTF-8
  // becomes U+FFFD instead of an exception.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

BatchAction decideBatchAction(bool transferred, long status, std::size_t batchSize) {
  if (!transferred) return BatchAction::Retry;
  if (status >= 200 && status < 300) return BatchAction::Delivered;
  // Only these say the payload itself is refused (413: too large, which halving also cures).
  // Others (401, 403, 404, 408, 429, ...) are about the endpoint, access or timing, not about
  // the alerts: they stay queued until the Alertmanager or its configuration is fixed.
  if (status == 400 || status == 413 || status == 422)
    return batchSize > 1 ? BatchAction::Split : BatchAction::Drop;
  return BatchAction::Retry;
}

std::vector<std::string> RefusalBisect::takeNext() {
  std::vector<std::string> part = std::move(parts_.front());
  parts_.pop_front();
  return part;
}

void RefusalBisect::split(const std::vector<std::string>& batch) {
  if (batch.size() < 2) return;
  const auto middle = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
  parts_.emplace_front(middle, batch.end());
  parts_.emplace_front(batch.begin(), middle);
}

void RefusalBisect::retryLater(std::vector<std::string> part) {
  if (!part.empty()) parts_.push_front(std::move(part));
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
  bool sendingPart = false;  // `sending` came from the bisection of a refused batch
  RefusalBisect bisect;
  std::string answer;  // the response body, up to kMaxAnswerBytes
  prometheus::Counter* success = nullptr;
  prometheus::Counter* failure = nullptr;
  prometheus::Counter* refused = nullptr;
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
  for (const auto& url : urls) targets_.push_back(makeTarget(url));
}

std::unique_ptr<AlertmanagerClient::Target> AlertmanagerClient::makeTarget(const std::string& url) {
  auto t = std::make_unique<Target>();
  t->name = url;
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  t->url = base + "/api/v2/alerts";
  t->success = &sent_.Add({{"alertmanager", url}, {"result", "success"}});
  t->failure = &sent_.Add({{"alertmanager", url}, {"result", "failure"}});
  t->refused = &sent_.Add({{"alertmanager", url}, {"result", "dropped"}});
  return t;
}

void AlertmanagerClient::release(Target& t) {
  if (t.retryTimer) loop_.cancelTimer(t.retryTimer);
  t.retryTimer = 0;
  if (t.easy) {
    curl_.abort(t.easy);
    curl_easy_cleanup(t.easy);
    t.easy = nullptr;
  }
  curl_slist_free_all(t.headers);
  t.headers = nullptr;
}

void AlertmanagerClient::reconfigure(const std::vector<std::string>& urls,
                                     std::size_t queueCapacity) {
  capacity_ = std::max<std::size_t>(queueCapacity, 1);
  std::vector<std::unique_ptr<Target>> next;
  for (const auto& url : urls) {
    auto kept = std::find_if(targets_.begin(), targets_.end(),
                             [&](const auto& t) { return t && t->name == url; });
    if (kept != targets_.end()) {
      next.push_back(std::move(*kept));
    } else {
      next.push_back(makeTarget(url));
      // A new Alertmanager learns of alerts already firing from their next resend.
      logInfo("alertmanager added", {{"alertmanager", url}});
    }
  }
  for (auto& gone : targets_) {
    if (!gone) continue;
    if (!gone->queue.empty())
      logWarn("alertmanager removed with undelivered alerts",
              {{"alertmanager", gone->name}, {"alerts", std::to_string(gone->queue.size())}});
    release(*gone);
    sent_.Remove(gone->success);
    sent_.Remove(gone->failure);
    sent_.Remove(gone->refused);
  }
  targets_ = std::move(next);
}

AlertmanagerClient::~AlertmanagerClient() {
  for (auto& t : targets_) release(*t);
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
  t.sendingPart = false;
  // Parts of a refused batch go first; alerts already delivered or evicted are skipped.
  while (batch.empty() && t.bisect.active()) {
    for (auto& fp : t.bisect.takeNext()) {
      auto it = t.queue.find(fp);
      if (it == t.queue.end()) continue;
      batch.push_back(it->second);
      t.sending.push_back(std::move(fp));
    }
    t.sendingPart = !batch.empty();
  }
  for (std::size_t i = 0; i < t.order.size() && !t.sendingPart; ++i) {
    auto it = t.queue.find(t.order[i]);
    if (it == t.queue.end()) continue;
    batch.push_back(it->second);
    t.sending.push_back(t.order[i]);
    if (batch.size() == kBatchSize) break;
  }
  if (batch.empty()) return;
  t.body = alertsToJson(batch);
  t.answer.clear();
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
  curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t.answer);
  curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION,
                   +[](char* data, std::size_t size, std::size_t n, void* user) {
                     auto* answer = static_cast<std::string*>(user);
                     const std::size_t room = kMaxAnswerBytes - std::min(answer->size(), kMaxAnswerBytes);
                     answer->append(data, std::min(size * n, room));
                     return size * n;
                   });
  t.inFlight = true;
  curl_.start(t.easy, [this, &t](CURLcode code) {
    t.inFlight = false;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    onAnswer(t, code == CURLE_OK,
             code == CURLE_OK ? "HTTP " + std::to_string(status) : curl_easy_strerror(code), status);
  });
}

void AlertmanagerClient::onAnswer(Target& t, bool transferred, const std::string& err,
                                  long status) {
  const std::size_t count = t.sending.size();
  switch (decideBatchAction(transferred, status, count)) {
    case BatchAction::Delivered:
      t.success->Increment(static_cast<double>(count));
      for (const auto& fp : t.sending) t.queue.erase(fp);
      compactOrder(t);
      t.backoff = kMinBackoff;
      flush(t);
      return;
    case BatchAction::Split:
      // Not a connectivity problem: the halves go at once, no backoff.
      // The first refusal is news; the refusals of its parts are the search going on.
      (t.sendingPart ? logDebug : logInfo)(
          "alertmanager refused a batch, sending it in halves to find the refused alerts",
          {{"alertmanager", t.name},
           {"err", err},
           {"alerts", count},
           {"answer", sanitizedAnswer(t.answer)}});
      t.bisect.split(t.sending);
      t.sending.clear();
      flush(t);
      return;
    case BatchAction::Drop:
      dropRefused(t, status);
      flush(t);
      return;
    case BatchAction::Retry:
      break;
  }
  t.failure->Increment(static_cast<double>(count));
  logWarn("alertmanager unreachable, alerts kept queued",
          {{"alertmanager", t.name}, {"err", err}, {"queued", t.queue.size()}});
  if (t.sendingPart) t.bisect.retryLater(t.sending);
  scheduleRetry(t);
}

void AlertmanagerClient::dropRefused(Target& t, long status) {
  t.refused->Increment(static_cast<double>(t.sending.size()));
  for (const auto& fp : t.sending) {
    auto it = t.queue.find(fp);
    if (it == t.queue.end()) continue;
    logWarn("alertmanager refused an alert, dropped",
            {{"alertmanager", t.name},
             {"err", "HTTP " + std::to_string(status)},
             {"labels", describeLabels(it->second.labels)},
             {"answer", sanitizedAnswer(t.answer)}});
    t.queue.erase(it);
  }
  compactOrder(t);
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
