#pragma once
// The agent's deployment-verification API, on the agent's HTTP endpoint:
//   POST /api/v1/deployments  announce a deployed version (bearer token of api.token_file;
//                             without one configured the control API is off: 403)
//   GET  /api/v1/deployments  each announcement and which series serve what (?service=)
//   GET  /api/v1/gate         the promotion gate (?for=24h&service=&visibility=&allow_partial=)
//   GET  /api/v1/changes      change records (?since=&service=&env=&limit=), newest first
// Answers in Prometheus' API envelope: {"status":"success","data":...} or
// {"status":"error","errorType":"bad_data","error":"..."}. Handlers run on HTTP threads.
#include <cstdint>
#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "probe/deploy/deployments.hpp"
#include "probe/history/history_store.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/web/http_server.hpp"

namespace envprobe {

// Bounds the requests that read the history at once (the status page, the gate, the changes),
// so that they can never take the HTTP threads /metrics and /-/healthy need.
class ReadGate {
 public:
  static constexpr int kMaxReaders = 4;
  class Ticket {
   public:
    explicit Ticket(std::atomic<int>* count) : count_(count) {}
    Ticket(Ticket&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (count_) count_->fetch_sub(1);
    }

   private:
    std::atomic<int>* count_;
  };
  // nullopt: kMaxReaders are reading already.
  std::optional<Ticket> enter() {
    if (count_.fetch_add(1) >= kMaxReaders) {
      count_.fetch_sub(1);
      return std::nullopt;
    }
    return Ticket(&count_);
  }

 private:
  std::atomic<int> count_{0};
};

struct ControlApiContext {
  std::shared_ptr<ProbeMetrics> metrics;
  Deployments* deployments = nullptr;
  HistoryStore* history = nullptr;  // nullptr or disabled: gate and changes answer 503
  // The control API's token now (reloads may change it); "" when the API is off.
  std::function<std::string()> token;
  // Why an announcement for this service is refused (unknown service, no check with
  // `version:`); nullopt when it is accepted.
  std::function<std::optional<std::string>(const std::string& service)> refuseService;
  std::function<std::int64_t()> nowMs;  // wall clock, unix ms
  // Every target now (the gate counts a target not probed yet as not green).
  std::function<std::vector<std::shared_ptr<const ProbeTarget>>()> targets;
  std::function<Duration()> retention;  // the history's; the gate's window cannot exceed it
  std::shared_ptr<ReadGate> readers;
  std::shared_ptr<std::mutex> announcing = std::make_shared<std::mutex>();
};

void addControlRoutes(HttpServer& server, ControlApiContext context);

// The value of one query parameter, percent-decoded; nullopt when absent.
std::optional<std::string> queryParam(const std::string& query, const std::string& name);

}  // namespace envprobe
