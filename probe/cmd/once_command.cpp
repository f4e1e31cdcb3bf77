#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "probe/engine/agent.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/base/text_table.hpp"

namespace envprobe {

namespace {

struct Row {
  const Target* target;
  ProbeResult result;
};

std::string addressOf(const ProbeResult& r) {
  return r.address.empty() ? r.observation.resolvedAddress : r.address;
}

}  // namespace

int runOnceCommand(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  auto config = loadAgentConfig(cl.configFile, err);
  if (!config) return 2;
  EventLoop loop;
  std::vector<ProbeResult> results;
  try {
    Agent agent(*config, loop);
    // A pipeline gate that checks nothing must not pass: zero targets is an error, not a success.
    if (agent.targetCount() == 0) {
      err << "envprobe: error: " << config->file << ": environment \"" << config->environment
          << "\" expands to zero targets";
      if (!config->includes.empty()) {
        err << " (catalog from";
        for (const auto& inc : config->includes) err << " " << inc;
        err << ")";
      }
      err << "; nothing to probe, so nothing passed\n";
      return 2;
    }
    agent.addListener([&results](const ProbeResult& r) { results.push_back(r); });
    agent.runOnce([&loop] { loop.stop(); });
    loop.run();
  } catch (const std::exception& e) {
    err << "envprobe: error: " << e.what() << "\n";
    return 2;
  }
  std::sort(results.begin(), results.end(), [](const ProbeResult& a, const ProbeResult& b) {
    return std::tie(a.target->target.id, a.address) < std::tie(b.target->target.id, b.address);
  });
  const auto failed = std::count_if(results.begin(), results.end(),
                                    [](const ProbeResult& r) { return !r.verdict.ok; });
  if (cl.format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : results) {
      const Target& t = r.target->target;
      rows.push_back({{"env", t.env},
                      {"service", t.service},
                      {"check", t.check},
                      {"hostname", t.hostname},
                      {"visibility", toString(t.visibility)},
                      {"address", addressOf(r)},
                      {"url", redactedUrl(t.url)},
                      {"success", r.verdict.ok},
                      {"reason", toString(r.verdict.reason)},
                      {"detail", r.verdict.detail},
                      {"status_code", r.observation.statusCode},
                      {"duration_seconds", r.observation.durationSeconds},
                      {"ssl_earliest_cert_expiry",
                       r.observation.cert.present ? r.observation.cert.earliestExpiryUnix : 0}});
    }
    // replace: details carry target bytes; invalid UTF-8 becomes U+FFFD, not an abort.
    out << rows.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    TextTable table({"ENV", "SERVICE", "CHECK", "HOSTNAME", "VISIBILITY", "ADDRESS", "RESULT",
                     "DURATION", "REASON", "DETAIL"});
    for (const auto& r : results) {
      const Target& t = r.target->target;
      char duration[32];
      std::snprintf(duration, sizeof duration, "%.3fs", r.observation.durationSeconds);
      table.addRow({t.env, t.service, t.check, t.hostname, toString(t.visibility),
                    addressOf(r).empty() ? "-" : addressOf(r), r.verdict.ok ? "ok" : "FAIL",
                    duration, r.verdict.ok ? "-" : toString(r.verdict.reason),
                    r.verdict.ok ? "" : r.verdict.detail});
    }
    table.print(out);
    out << "\n" << results.size() << " probe(s): " << results.size() - failed << " passed, "
        << failed << " failed\n";
  }
  return failed > 0 ? 1 : 0;
}

}  // namespace envprobe
