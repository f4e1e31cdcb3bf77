#include "probe/deploy/control_api.hpp"

#include <CivetServer.h>
#include <set>
#include <stdexcept>
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "probe/alerting/maintenance.hpp"
#include "probe/base/duration.hpp"
#include "probe/base/logging.hpp"
#include "probe/base/utf8.hpp"
#include "checks/response_facts.hpp"
#include "probe/deploy/gate.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxConvergeWithinMs = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t kMaxGateWindowMs = 400LL * 24 * 3600 * 1000;
constexpr std::size_t kMaxChanges = 10000;
constexpr std::size_t kMaxQueryValue = 4096;

struct BadQuery : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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
  // Compared with what targets serve, which is read trimmed and without control characters:
  // a version that cannot be read that way could never match.
  if (!version || version->empty() || version->size() > Deployments::kMaxVersionBytes ||
      factText(*version, Deployments::kMaxVersionBytes) != *version)
    return failure(400, "bad_data",
                   "\"version\" must be a non-empty UTF-8 string of at most " +
                       std::to_string(Deployments::kMaxVersionBytes) +
                       " bytes, without surrounding spaces or control characters");
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
  // One announcement at a time, so memory and the history agree on the latest.
  std::lock_guard lock(*ctx.announcing);
  ExpectedVersion a{*service, *version, ctx.nowMs(), convergeMs};
  // On disk before the pipeline hears "accepted"; not accepted when it could not be kept.
  if (ctx.history &&
      !ctx.history->recordAnnouncementDurably(
          {a.service, a.version, a.announcedUnixMs, a.convergeWithinMs}))
    return failure(503, "unavailable",
                   "the announcement could not be written to the agent's history; retry");
  ctx.deployments->announce(a);
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
  if (ctx.retention && ctx.retention().count() > 0 && query.windowMs > ctx.retention().count())
    return failure(400, "bad_data",
                   "for= is longer than the history the agent keeps (--storage.retention " +
                       formatDuration(ctx.retention()) + ")");
  query.service = queryParam(request.query, "service").value_or("");
  query.visibility = queryParam(request.query, "visibility").value_or("");
  if (!query.visibility.empty() && query.visibility != "public" && query.visibility != "internal")
    return failure(400, "bad_data", "visibility= must be public or internal");
  const auto partial = queryParam(request.query, "allow_partial").value_or("false");
  if (partial != "true" && partial != "false" && partial != "1" && partial != "0")
    return failure(400, "bad_data", "allow_partial= must be true or false");
  query.allowPartial = partial == "true" || partial == "1";
  const std::int64_t now = ctx.nowMs();
  auto snapshot = ctx.metrics->snapshot();
  if (ctx.targets) {  // a target not probed yet (since a restart or a reload) is not green
    std::set<std::string> seen;
    for (const auto& s : snapshot) seen.insert(s.targetId);
    for (const auto& prepared : ctx.targets()) {
      const Target& t = prepared->target;
      if (!seen.contains(t.id)) snapshot.push_back(seriesIdentity(t, t.backend));
    }
  }
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
  std::string value(kMaxQueryValue + 1, '\0');
  const int n = mg_get_var(query.data(), query.size(), name.c_str(), value.data(), value.size());
  if (n == -1) return std::nullopt;  // absent
  if (n < 0) throw BadQuery(name + "= is longer than " + std::to_string(kMaxQueryValue) + " bytes");
  value.resize(static_cast<std::size_t>(n));
  return value;
}

// Answers 400 for a query that cannot be read, 503 while too many requests read the history.
template <typename Handler>
HttpServer::Handler guarded(std::shared_ptr<ControlApiContext> ctx, bool readsHistory,
                            Handler handler) {
  return [ctx, readsHistory, handler](const HttpServer::Request& request) {
    const bool gated = readsHistory && ctx->readers;
    const auto ticket = gated ? ctx->readers->enter() : std::nullopt;
    if (gated && !ticket)
      return failure(503, "unavailable", "too many history requests at once; retry");
    try {
      return handler(*ctx, request);
    } catch (const BadQuery& e) {
      return failure(400, "bad_data", e.what());
    }
  };
}

void addControlRoutes(HttpServer& server, ControlApiContext context) {
  auto ctx = std::make_shared<ControlApiContext>(std::move(context));
  // Without a configured token any bearer passes here, and POST answers 403 "off" (a 401
  // would send the operator looking for a wrong token).
  server.setBearerCheck([ctx](std::string_view token) {
    const std::string expected = ctx->token();
    return expected.empty() || tokenMatches(expected, token);
  });
  for (const char* path : {"/api/v1/deployments", "/api/v1/gate", "/api/v1/changes"})
    server.acceptBearer(path);
  server.handlePost("/api/v1/deployments", guarded(ctx, false, announce));
  server.handle("/api/v1/deployments", guarded(ctx, false, deployments));
  server.handle("/api/v1/gate", guarded(ctx, true, gate));
  server.handle("/api/v1/changes", guarded(ctx, true, changes));
}

}  // namespace envprobe
