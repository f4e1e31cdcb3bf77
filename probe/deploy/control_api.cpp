#include "probe/deploy/control_api.hpp"

#include <CivetServer.h>
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "probe/alerting/maintenance.hpp"
#include "probe/base/duration.hpp"
#include "probe/base/logging.hpp"
#include "probe/base/utf8.hpp"
#include "probe/deploy/gate.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxConvergeWithinMs = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t kMaxGateWindowMs = 400LL * 24 * 3600 * 1000;
constexpr std::size_t kMaxChanges = 10000;

HttpResponse success(json data) {
  return {200, "application/json", json{{"status", "success"}, {"data", std::move(data)}}.dump(
                                       -1, ' ', false, json::error_handler_t::replace) +
                                       "\n"};
}

HttpResponse failure(int status, const std::string& type, const std::string& message) {
  return {status, "application/json",
          json{{"status", "error"}, {"errorType", type}, {"error", message}}.dump(
              -1, ' ', false, json::error_handler_t::replace) +
              "\n"};
}

std::string timestamp(std::int64_t unixMs) { return rfc3339(unixMs / 1000); }

bool tokenMatches(const std::string& expected, std::string_view given) {
  return !expected.empty() && expected.size() == given.size() &&
         CRYPTO_memcmp(expected.data(), given.data(), given.size()) == 0;
}

json seriesJson(const SeriesState& s) {
  return {{"target", s.targetId},   {"service", s.service}, {"env", s.env},
          {"hostname", s.hostname}, {"visibility", s.visibility}, {"check", s.check},
          {"address", s.address}};
}

json announcementJson(const ExpectedVersion& a) {
  return {{"service", a.service},
          {"version", a.version},
          {"announced_at", timestamp(a.announcedUnixMs)},
          {"converge_within", formatDuration(std::chrono::milliseconds(a.convergeWithinMs))},
          {"deadline", timestamp(a.deadlineUnixMs())}};
}

HttpResponse announce(const ControlApiContext& ctx, const HttpServer::Request& request) {
  if (ctx.token().empty())
    return failure(403, "unavailable",
                   "the control API is off: the agent file sets no api.token_file");
  if (!request.bearerVerified)
    return failure(401, "unauthorized",
                   "announcing a deployment needs the header Authorization: Bearer <token>");
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return failure(400, "bad_data", "the body is not a JSON object");
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = body.find(key);
    if (it == body.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto service = text("service");
  if (!service || service->empty())
    return failure(400, "bad_data", "\"service\" must be a non-empty string");
  const auto version = text("version");
  if (!version || version->empty() || version->size() > Deployments::kMaxVersionBytes ||
      !isValidUtf8(*version))
    return failure(400, "bad_data", "\"version\" must be a non-empty UTF-8 string of at most " +
                                        std::to_string(Deployments::kMaxVersionBytes) + " bytes");
  std::int64_t convergeMs = Deployments::kDefaultConvergeWithinMs;
  if (body.contains("converge_within")) {
    const auto given = text("converge_within");
    const auto parsed = given ? parseDuration(*given) : std::nullopt;
    if (!parsed || parsed->count() < 0 || parsed->count() > kMaxConvergeWithinMs)
      return failure(400, "bad_data",
                     "\"converge_within\" must be a duration such as \"10m\", at most 7d");
    convergeMs = parsed->count();
  }
  for (const auto& [key, value] : body.items())
    if (key != "service" && key != "version" && key != "converge_within")
      return failure(400, "bad_data", "unknown field \"" + key + "\"");
  if (auto refused = ctx.refuseService(*service)) return failure(400, "bad_data", *refused);
  ExpectedVersion a{*service, *version, ctx.nowMs(), convergeMs};
  ctx.deployments->announce(a);
  if (ctx.history && ctx.history->enabled()) {
    ctx.history->recordAnnouncement({a.service, a.version, a.announcedUnixMs, a.convergeWithinMs});
    ctx.history->flush();  // on disk before the pipeline hears "accepted"
  }
  logInfo("deployment announced", {{"service", a.service},
                                   {"version", a.version},
                                   {"converge_within", formatDuration(Duration(convergeMs))}});
  return success(announcementJson(a));
}

HttpResponse deployments(const ControlApiContext& ctx, const HttpServer::Request& request) {
  const auto service = queryParam(request.query, "service");
  const auto snapshot = ctx.metrics->snapshot();
  json out = json::array();
  for (const auto& a : ctx.deployments->all()) {
    if (service && !service->empty() && a.service != *service) continue;
    const Convergence c = convergence(a, snapshot);
    json entry = announcementJson(a);
    entry["converged"] = c.converged;
    json targets = json::array();
    for (const auto& row : c.rows) {
      json t = seriesJson(*row.series);
      t["version"] = row.series->version;
      t["matches"] = row.matches;
      t["probed_since_announcement"] = row.probedSinceAnnouncement;
      targets.push_back(std::move(t));
    }
    entry["targets"] = std::move(targets);
    out.push_back(std::move(entry));
  }
  return success(std::move(out));
}

HttpResponse gate(const ControlApiContext& ctx, const HttpServer::Request& request) {
  if (!ctx.history || !ctx.history->enabled())
    return failure(503, "unavailable",
                   "the gate needs the agent's history, which is off (see the agent's log: "
                   "--storage.path)");
  GateQuery query;
  const auto window = queryParam(request.query, "for");
  const auto parsed = window ? parseDuration(*window) : std::nullopt;
  if (!parsed || parsed->count() <= 0 || parsed->count() > kMaxGateWindowMs)
    return failure(400, "bad_data", "for= must be a duration such as 24h (at most 400d)");
  query.windowMs = parsed->count();
  query.service = queryParam(request.query, "service").value_or("");
  query.visibility = queryParam(request.query, "visibility").value_or("");
  if (!query.visibility.empty() && query.visibility != "public" && query.visibility != "internal")
    return failure(400, "bad_data", "visibility= must be public or internal");
  const auto partial = queryParam(request.query, "allow_partial").value_or("false");
  if (partial != "true" && partial != "false" && partial != "1" && partial != "0")
    return failure(400, "bad_data", "allow_partial= must be true or false");
  query.allowPartial = partial == "true" || partial == "1";
  const std::int64_t now = ctx.nowMs();
  const auto snapshot = ctx.metrics->snapshot();
  const GateResult result =
      evaluateGate(query, snapshot, ctx.history->queryTransitions(now - query.windowMs),
                   ctx.history->firstSeen(), now);
  json failing = json::array();
  for (const auto& f : result.failing) {
    json t = seriesJson(*f.series);
    t["failed_seconds"] = f.failedSeconds;
    t["reason"] = f.reason;
    t["detail"] = f.detail;
    t["insufficient_history"] = f.insufficientHistory;
    failing.push_back(std::move(t));
  }
  return success({{"pass", result.pass},
                  {"window", formatDuration(Duration(query.windowMs))},
                  {"matched", result.matched},
                  {"failing", std::move(failing)}});
}

HttpResponse changes(const ControlApiContext& ctx, const HttpServer::Request& request) {
  if (!ctx.history || !ctx.history->enabled())
    return failure(503, "unavailable",
                   "change records need the agent's history, which is off (see the agent's "
                   "log: --storage.path)");
  ChangeQuery query;
  if (const auto since = queryParam(request.query, "since"); since && !since->empty()) {
    if (const auto at = parseTimestamp(*since)) {
      query.sinceUnixMs =
          std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch()).count();
    } else {
      char* end = nullptr;
      const double seconds = std::strtod(since->c_str(), &end);
      if (end == since->c_str() || *end != '\0' || !(seconds >= 0) || seconds > 1e11)
        return failure(400, "bad_data",
                       "since= must be an RFC 3339 time or unix seconds, got \"" +
                           makeValidUtf8(since->substr(0, 64)) + "\"");
      query.sinceUnixMs = static_cast<std::int64_t>(seconds * 1000);
    }
  }
  query.service = queryParam(request.query, "service").value_or("");
  query.env = queryParam(request.query, "env").value_or("");
  if (const auto limit = queryParam(request.query, "limit")) {
    char* end = nullptr;
    const long n = std::strtol(limit->c_str(), &end, 10);
    if (end == limit->c_str() || *end != '\0' || n <= 0 || n > static_cast<long>(kMaxChanges))
      return failure(400, "bad_data", "limit= must be 1.." + std::to_string(kMaxChanges));
    query.limit = static_cast<std::size_t>(n);
  }
  json out = json::array();
  for (const auto& c : ctx.history->queryChanges(query))
    out.push_back({{"time", timestamp(c.unixMs)},
                   {"target", c.targetId},
                   {"service", c.service},
                   {"env", c.env},
                   {"hostname", c.hostname},
                   {"visibility", c.visibility},
                   {"check", c.check},
                   {"address", c.address},
                   {"what", c.what},
                   {"old", c.oldValue},
                   {"new", c.newValue}});
  return success(std::move(out));
}

}  // namespace

std::optional<std::string> queryParam(const std::string& query, const std::string& name) {
  std::string value(4096, '\0');
  const int n = mg_get_var(query.data(), query.size(), name.c_str(), value.data(), value.size());
  if (n < 0) return std::nullopt;  // absent (-1) or longer than the buffer (-2)
  value.resize(static_cast<std::size_t>(n));
  return value;
}

void addControlRoutes(HttpServer& server, ControlApiContext context) {
  auto ctx = std::make_shared<ControlApiContext>(std::move(context));
  server.setBearerCheck([ctx](std::string_view token) { return tokenMatches(ctx->token(), token); });
  for (const char* path : {"/api/v1/deployments", "/api/v1/gate", "/api/v1/changes"})
    server.acceptBearer(path);
  server.handlePost("/api/v1/deployments",
                    [ctx](const HttpServer::Request& r) { return announce(*ctx, r); });
  server.handle("/api/v1/deployments",
                [ctx](const HttpServer::Request& r) { return deployments(*ctx, r); });
  server.handle("/api/v1/gate", [ctx](const HttpServer::Request& r) { return gate(*ctx, r); });
  server.handle("/api/v1/changes",
                [ctx](const HttpServer::Request& r) { return changes(*ctx, r); });
}

}  // namespace envprobe
