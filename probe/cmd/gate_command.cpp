// `envprobe gate`: ask an agent whether its targets were green for a window, for a CI/CD
// promotion gate.
#include <cmath>

#include "probe/base/duration.hpp"
#include "probe/base/text_table.hpp"
#include "probe/catalog/target.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/control_commands.hpp"

namespace envprobe {

namespace {

constexpr const char* kGate = "/api/v1/gate";

std::optional<FailingTargetRow> readFailure(const nlohmann::json& f, const std::string& where,
                                       std::string& error) {
  if (!f.is_object()) {
    error = where + " is not an object";
    return std::nullopt;
  }
  FailingTargetRow g;
  if (!readString(f, "hostname", where, true, g.hostname, error) ||
      !readString(f, "target", where, false, g.target, error) ||
      !readString(f, "service", where, false, g.service, error) ||
      !readString(f, "visibility", where, false, g.visibility, error) ||
      !readString(f, "check", where, false, g.check, error) ||
      !readString(f, "address", where, false, g.address, error) ||
      !readString(f, "reason", where, false, g.reason, error) ||
      !readString(f, "detail", where, false, g.detail, error) ||
      !readBool(f, "insufficient_history", where, false, g.insufficientHistory, error))
    return std::nullopt;
  if (const auto it = f.find("failed_seconds"); it != f.end() && !it->is_null()) {
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0) {
      error = where + ": \"failed_seconds\" is not a number of seconds";
      return std::nullopt;
    }
    g.failedSeconds = it->get<double>();
  }
  return g;
}

// "service shop, visibility public" for the filters given; empty when none.
std::string filters(const ControlFlags& flags) {
  std::string out;
  if (!flags.service.empty()) out = "service " + flags.service;
  if (!flags.visibility.empty())
    out += (out.empty() ? "" : ", ") + ("visibility " + flags.visibility);
  return out;
}

std::string targets(long long n) { return std::to_string(n) + (n == 1 ? " target" : " targets"); }

}  // namespace

QueryItems gateQuery(const ControlFlags& flags) {
  QueryItems query = {{"for", flags.window}};
  if (!flags.service.empty()) query.emplace_back("service", flags.service);
  if (!flags.visibility.empty()) query.emplace_back("visibility", flags.visibility);
  if (flags.allowPartial) query.emplace_back("allow_partial", "true");
  return query;
}

std::optional<GateAnswer> readGateAnswer(const nlohmann::json& data, std::string& error) {
  if (!data.is_object()) {
    error = "\"data\" is not an object";
    return std::nullopt;
  }
  GateAnswer answer;
  if (!readBool(data, "pass", "data", true, answer.pass, error)) return std::nullopt;
  const auto matched = data.find("matched");
  if (matched == data.end() || !matched->is_number_integer() || matched->get<long long>() < 0) {
    error = std::string("data: \"matched\" is ") +
            (matched == data.end() ? "missing" : "not a count of targets");
    return std::nullopt;
  }
  answer.matched = matched->get<long long>();
  const auto failing = data.find("failing");
  if (failing != data.end() && !failing->is_null()) {
    if (!failing->is_array()) {
      error = "data: \"failing\" is not a list";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < failing->size(); ++i) {
      auto f = readFailure((*failing)[i], "data.failing[" + std::to_string(i) + "]", error);
      if (!f) return std::nullopt;
      answer.failing.push_back(std::move(*f));
    }
  }
  return answer;
}

std::string failedFor(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return "-";
  if (seconds < 0.5) return "<1s";
  const double capped = std::min(seconds, 366.0 * 86400);
  return formatDuration(std::chrono::seconds(std::llround(capped)));
}

int reportGate(const GateAnswer& answer, const ControlFlags& flags, std::ostream& out,
               std::ostream& err) {
  if (answer.matched == 0) {
    const std::string which = filters(flags);
    err << "envprobe: error: no target matches" << (which.empty() ? "" : " (" + which + ")")
        << " in the agent's environment; a gate over nothing cannot pass\n";
    return 2;
  }
  if (answer.pass) {
    out << "PASS: " << targets(answer.matched) << " green for " << flags.window << "\n";
  } else {
    // The agent decides; a fail that names no target still fails.
    const auto n = static_cast<long long>(answer.failing.size());
    if (n == 0)
      out << "FAIL: the agent reports the " << targets(answer.matched) << " as not green for "
          << flags.window << " and names none of them\n";
    else
      out << "FAIL: " << n << " of " << targets(answer.matched) << " not green for " << flags.window
          << "\n";
  }
  if (!answer.failing.empty()) {
    if (answer.pass) out << "allowed (--allow-partial):\n";
    TextTable table({"HOSTNAME", "VISIBILITY", "CHECK", "FAILED-FOR", "REASON", "DETAIL"});
    const auto orDash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    for (const auto& f : answer.failing) {
      const std::string check =
          f.service.empty() || f.service == flags.service ? f.check : f.service + "/" + f.check;
      table.addRow({f.hostname, orDash(f.visibility), orDash(check), failedFor(f.failedSeconds),
                    f.insufficientHistory ? "insufficient history" : orDash(f.reason),
                    orDash(printable(f.detail, 200))});
    }
    table.print(out);
  }
  return answer.pass ? 0 : 1;
}

int gate(const ControlFlags& flags, const std::string& token, const ApiTransport& send,
         std::ostream& out, std::ostream& err) {
  ApiRequest get;
  get.url = apiUrl(flags.agent, kGate, gateQuery(flags));
  get.bearerToken = token;
  get.caFile = flags.caFile;
  const std::string shown = apiUrl(redactedUrl(flags.agent), kGate, gateQuery(flags));
  std::string error;
  const auto data = readApiAnswer("GET", shown, send(get), {200}, error);
  if (!data) {
    err << "envprobe: error: " << error << "\n";
    return 2;
  }
  const auto answer = readGateAnswer(*data, error);
  if (!answer) {
    err << "envprobe: error: GET " << shown
        << ": HTTP 200 with an answer not as expected: " << error << "\n";
    return 2;
  }
  return reportGate(*answer, flags, out, err);
}

int runGateCommand(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  std::string token, error;
  if (!checkCaFile(cl.control.caFile, error)) {
    err << "envprobe: error: " << error << "\n";
    return 2;
  }
  if (!cl.control.tokenFile.empty()) {
    const auto read = readTokenFile(cl.control.tokenFile, error);
    if (!read) {
      err << "envprobe: error: " << error << "\n";
      return 2;
    }
    token = *read;
  }
  return gate(cl.control, token, sendApiRequest, out, err);
}

}  // namespace envprobe
