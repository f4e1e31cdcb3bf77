#pragma once
// `deploy` and `gate`: clients of an agent's control API. Everything they decide (the request,
// reading the answer, the table, the last line, the exit code) is here without I/O of its own:
// requests go through an ApiTransport, waiting through a PollClock, so tests fake both.
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe/cmd/api_client.hpp"
#include "probe/cmd/cli.hpp"

namespace envprobe {

using ControlFlags = CommandLine::Control;

// --- deploy ----------------------------------------------------------------------------------

// {"service":..,"version":..[,"converge_within":..]}
std::string deploymentBody(const ControlFlags& flags);

struct TargetVersion {
  std::string target, hostname, visibility, check, address;
  std::string version;  // what it served when last probed; empty: none read
  bool matches = false;
  bool probed = false;  // probed since the announcement
};

struct DeploymentState {
  std::string service, version;
  bool converged = false;
  std::vector<TargetVersion> targets;
};

// The deployment of `service` in the `data` of GET /api/v1/deployments. nullopt and why in
// `error` when it is missing or not of the expected shape.
std::optional<DeploymentState> readDeploymentState(const nlohmann::json& data,
                                                   const std::string& service, std::string& error);

// The last line: "converged: every hostname of shop serves 1.5.0", or "not converged after 10m:
// 1 of 2 hostnames serve another version (shop.example.com serves 1.4.2)".
std::string convergenceLine(const DeploymentState& state, const std::string& waited);

// The table (HOSTNAME VISIBILITY CHECK ADDRESS SERVES MATCHES) and the last line.
void printDeploymentState(const DeploymentState& state, const std::string& waited,
                          std::ostream& out);

// Waiting without a real clock in tests: `sleep` advances what `now` returns.
struct PollClock {
  std::function<std::chrono::steady_clock::time_point()> now;
  std::function<void(Duration)> sleep;
};
PollClock systemPollClock();

// Announces, then (with --wait) polls until converged or the wait runs out.
// 0 announced / converged, 1 not converged in time (or announced again meanwhile), 2 unusable.
int deploy(const ControlFlags& flags, const std::string& token, const ApiTransport& send,
           const PollClock& clock, std::ostream& out, std::ostream& err);

// --- gate ------------------------------------------------------------------------------------

struct FailingTargetRow {
  std::string target, service, hostname, visibility, check, address, reason, detail;
  double failedSeconds = 0;
  bool insufficientHistory = false;
};

struct GateAnswer {
  bool pass = false;
  long long matched = 0;
  std::vector<FailingTargetRow> failing;
};

// The request's query: for, service, visibility, allow_partial (only those given).
QueryItems gateQuery(const ControlFlags& flags);

// The `data` of GET /api/v1/gate; nullopt and why in `error` when not of the expected shape.
std::optional<GateAnswer> readGateAnswer(const nlohmann::json& data, std::string& error);

// "1m14s" for 73.5 s: whole seconds, rounded.
std::string failedFor(double seconds);

// Prints the verdict (PASS/FAIL line and the failing targets) and returns the exit code:
// 0 pass, 1 fail, 2 no target matches.
int reportGate(const GateAnswer& answer, const ControlFlags& flags, std::ostream& out,
               std::ostream& err);

int gate(const ControlFlags& flags, const std::string& token, const ApiTransport& send,
         std::ostream& out, std::ostream& err);

}  // namespace envprobe
