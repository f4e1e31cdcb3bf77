// `envprobe deploy`: announce a version to an agent, optionally wait until every hostname of the
// service serves it.
#include <algorithm>
#include <map>
#include <thread>

#include "probe/base/text_table.hpp"
#include "probe/catalog/target.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/control_commands.hpp"

namespace envprobe {

namespace {

constexpr const char* kDeployments = "/api/v1/deployments";
constexpr std::size_t kNamesShown = 5;

// "a, b, c" for at most kNamesShown items, then ", and N more".
std::string listed(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < kNamesShown; ++i)
    out += (i ? ", " : "") + items[i];
  if (items.size() > kNamesShown)
    out += ", and " + std::to_string(items.size() - kNamesShown) + " more";
  return out;
}

std::optional<TargetVersion> readTargetVersion(const nlohmann::json& t, const std::string& where,
                                               std::string& error) {
  if (!t.is_object()) {
    error = where + " is not an object";
    return std::nullopt;
  }
  TargetVersion v;
  if (!readString(t, "hostname", where, true, v.hostname, error) ||
      !readString(t, "target", where, false, v.target, error) ||
      !readString(t, "visibility", where, false, v.visibility, error) ||
      !readString(t, "check", where, false, v.check, error) ||
      !readString(t, "address", where, false, v.address, error) ||
      !readString(t, "version", where, false, v.version, error) ||
      !readBool(t, "matches", where, true, v.matches, error) ||
      !readBool(t, "probed_since_announcement", where, true, v.probed, error))
    return std::nullopt;
  return v;
}

}  // namespace

std::string deploymentBody(const ControlFlags& flags) {
  nlohmann::json body = {{"service", flags.service}, {"version", flags.version}};
  if (!flags.convergeWithin.empty()) body["converge_within"] = flags.convergeWithin;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<DeploymentState> readDeploymentState(const nlohmann::json& data,
                                                   const std::string& service, std::string& error) {
  if (!data.is_array()) {
    error = "\"data\" is not a list of deployments";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::string where = "data[" + std::to_string(i) + "]";
    DeploymentState state;
    if (!data[i].is_object()) {
      error = where + " is not an object";
      return std::nullopt;
    }
    if (!readString(data[i], "service", where, true, state.service, error)) return std::nullopt;
    if (state.service != service) continue;
    if (!readString(data[i], "version", where, true, state.version, error) ||
        !readBool(data[i], "converged", where, true, state.converged, error))
      return std::nullopt;
    const auto targets = data[i].find("targets");
    if (targets == data[i].end() || !targets->is_array()) {
      error = where + ": \"targets\" is " + (targets == data[i].end() ? "missing" : "not a list");
      return std::nullopt;
    }
    for (std::size_t j = 0; j < targets->size(); ++j) {
      auto v =
          readTargetVersion((*targets)[j], where + ".targets[" + std::to_string(j) + "]", error);
      if (!v) return std::nullopt;
      state.targets.push_back(std::move(*v));
    }
    return state;
  }
  error = "the agent knows no deployment of " + printable(service, 100) +
          " (was the announcement lost, e.g. by a restart of the agent?)";
  return std::nullopt;
}

std::string convergenceLine(const DeploymentState& state, const std::string& waited) {
  const std::string service = printable(state.service, 100),
                    version = printable(state.version, 100);
  if (state.converged) return "converged: every hostname of " + service + " serves " + version;
  const std::string head = "not converged after " + waited + ": ";
  if (state.targets.empty()) return head + "the agent probes no hostname of " + service;
  // Per hostname, in the agent's order: the versions its probed targets serve that do not
  // match, and whether one of its targets has not been probed since the announcement.
  std::vector<std::string> hostnames;
  std::map<std::string, std::vector<std::string>> others;
  std::map<std::string, bool> pending;
  for (const auto& t : state.targets) {
    if (std::find(hostnames.begin(), hostnames.end(), t.hostname) == hostnames.end())
      hostnames.push_back(t.hostname);
    if (!t.probed) {
      pending[t.hostname] = true;
      continue;
    }
    if (t.matches) continue;
    const std::string served =
        t.version.empty() ? "no readable version" : printable(t.version, 100);
    auto& list = others[t.hostname];
    if (std::find(list.begin(), list.end(), served) == list.end()) list.push_back(served);
  }
  std::vector<std::string> wrong, notProbed;
  for (const auto& h : hostnames) {
    const std::string name = printable(h, 200);
    if (others.count(h)) {
      std::string served;
      for (const auto& v : others[h]) served += (served.empty() ? "" : " and ") + v;
      wrong.push_back(name + " serves " + served);
    } else if (pending.count(h)) {
      notProbed.push_back(name);
    }
  }
  const std::string of = " of " + std::to_string(hostnames.size()) + " hostnames ";
  std::string line;
  if (!wrong.empty())
    line = std::to_string(wrong.size()) + of + "serve another version (" + listed(wrong) + ")";
  if (!notProbed.empty())
    line += (line.empty() ? std::to_string(notProbed.size()) + of
                          : "; " + std::to_string(notProbed.size()) + " ") +
            "not probed yet since the announcement (" + listed(notProbed) + ")";
  if (line.empty())
    line = "every hostname serves " + version + ", but the agent does not report " + service +
           " as converged yet";
  return head + line;
}

void printDeploymentState(const DeploymentState& state, const std::string& waited,
                          std::ostream& out) {
  TextTable table({"HOSTNAME", "VISIBILITY", "CHECK", "ADDRESS", "SERVES", "MATCHES"});
  for (const auto& t : state.targets) {
    const auto orDash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    table.addRow({t.hostname, orDash(t.visibility), orDash(t.check), orDash(t.address),
                  t.probed ? orDash(t.version) : "not probed yet",
                  t.probed ? (t.matches ? "yes" : "no") : "-"});
  }
  table.print(out);
  out << convergenceLine(state, waited) << "\n";
}

PollClock systemPollClock() {
  return {[] { return std::chrono::steady_clock::now(); },
          [](Duration d) { std::this_thread::sleep_for(d); }};
}

int deploy(const ControlFlags& flags, const std::string& token, const ApiTransport& send,
           const PollClock& clock, std::ostream& out, std::ostream& err) {
  const std::string shownAgent = redactedUrl(flags.agent);
  std::string error;
  ApiRequest post;
  post.method = "POST";
  post.url = apiUrl(flags.agent, kDeployments);
  post.bearerToken = token;
  post.body = deploymentBody(flags);
  post.caFile = flags.caFile;
  if (!readApiAnswer("POST", apiUrl(shownAgent, kDeployments), send(post), {200, 201}, error)) {
    err << "envprobe: error: " << error << "\n";
    return 2;
  }
  out << "announced " << flags.service << " " << flags.version << " to " << shownAgent << "\n";
  if (flags.wait.empty()) return 0;

  ApiRequest get;
  const QueryItems query = {{"service", flags.service}};
  get.url = apiUrl(flags.agent, kDeployments, query);
  get.bearerToken = token;
  get.caFile = flags.caFile;
  const std::string shownGet = apiUrl(shownAgent, kDeployments, query);
  const auto deadline = clock.now() + flags.waitValue;
  for (;;) {
    const ApiResponse response = send(get);
    const auto data = readApiAnswer("GET", shownGet, response, {200}, error);
    // The agent unreachable or answering 5xx (restarting, overloaded): ask again until the
    // deadline; a pipeline's wait should not end on one blip. Past the deadline it is exit 2.
    if (!data && (!response.ok || response.status >= 500)) {
      const auto now = clock.now();
      if (now < deadline) {
        err << "envprobe: warning: " << error << "; asking again\n";
        clock.sleep(std::min(flags.pollIntervalValue, std::chrono::ceil<Duration>(deadline - now)));
        continue;
      }
    }
    std::optional<DeploymentState> state;
    if (data) {
      state = readDeploymentState(*data, flags.service, error);
      if (!state) error = "GET " + shownGet + ": HTTP 200 with an answer not as expected: " + error;
    }
    if (!state) {
      err << "envprobe: error: " << error << "\n";
      return 2;
    }
    if (state->version != flags.version) {
      printDeploymentState(*state, flags.wait, out);
      err << "envprobe: " << printable(flags.service, 100)
          << " was announced again while waiting: the agent now expects "
          << printable(state->version, 100) << ", not " << flags.version << "\n";
      return 1;
    }
    if (state->converged) {
      printDeploymentState(*state, flags.wait, out);
      return 0;
    }
    const auto now = clock.now();
    if (now >= deadline) {
      printDeploymentState(*state, flags.wait, out);
      return 1;
    }
    clock.sleep(std::min(flags.pollIntervalValue, std::chrono::ceil<Duration>(deadline - now)));
  }
}

int runDeployCommand(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  std::string error;
  const auto token = readTokenFile(cl.control.tokenFile, error);
  if (!token || !checkCaFile(cl.control.caFile, error)) {
    err << "envprobe: error: " << error << "\n";
    return 2;
  }
  return deploy(cl.control, *token, sendApiRequest, systemPollClock(), out, err);
}

}  // namespace envprobe
