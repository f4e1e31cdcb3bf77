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
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "probe/deploy/deployments.hpp"
#include "probe/history/history_store.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/web/http_server.hpp"

namespace envprobe {

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
};

void addControlRoutes(HttpServer& server, ControlApiContext context);

// The value of one query parameter, percent-decoded; nullopt when absent.
std::optional<std::string> queryParam(const std::string& query, const std::string& name);

}  // namespace envprobe
