// deploy and gate without a network: a scripted transport answers, a fake clock waits.
#include "probe/cmd/control_commands.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <sstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using envprobe::ApiRequest;
using envprobe::ApiResponse;
using envprobe::ControlFlags;

namespace {

ApiResponse answer(long status, std::string body) {
  ApiResponse r;
  r.ok = true;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse unreachable(std::string error) {
  ApiResponse r;
  r.error = std::move(error);
  return r;
}

// Answers requests in order; records each one.
struct FakeApi {
  std::deque<ApiResponse> answers;
  std::vector<ApiRequest> requests;
  envprobe::ApiTransport transport() {
    return [this](const ApiRequest& r) {
      requests.push_back(r);
      if (answers.empty()) return unreachable("no more answers scripted");
      auto a = answers.front();
      if (answers.size() > 1) answers.pop_front();  // the last answer repeats
      return a;
    };
  }
};

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  std::vector<envprobe::Duration> sleeps;
  envprobe::PollClock clock() {
    return {[this] { return now; },
            [this](envprobe::Duration d) {
              sleeps.push_back(d);
              now += d;
            }};
  }
};

ControlFlags deployFlags() {
  ControlFlags f;
  f.agent = "http://127.0.0.1:9470/";
  f.tokenFile = "t";
  f.service = "shop";
  f.version = "1.5.0";
  return f;
}

const char* const kAnnounced = R"({"status":"success","data":{"service":"shop"}})";

std::string target(const std::string& host, const std::string& version, bool matches, bool probed) {
  return R"({"target":"id-)" + host + R"(","hostname":")" + host +
         R"(","visibility":"public","check":"version","address":"127.0.0.1:8443","version":")" +
         version + R"(","matches":)" + (matches ? "true" : "false") +
         R"(,"probed_since_announcement":)" + (probed ? "true" : "false") + "}";
}

std::string deployments(bool converged, const std::vector<std::string>& targets,
                        const std::string& version = "1.5.0") {
  std::string list;
  for (const auto& t : targets) list += (list.empty() ? "" : ",") + t;
  return R"({"status":"success","data":[{"service":"shop","version":")" + version +
         R"(","announced_at":"2026-11-23T12:00:00Z","converge_within":"10m","converged":)" +
         (converged ? "true" : "false") + R"(,"targets":[)" + list + "]}]}";
}

}  // namespace

TEST_CASE("cli: deploy without --wait announces once and exits 0", "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(201, kAnnounced)};
  auto flags = deployFlags();
  flags.convergeWithin = "10m";
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "s3cret", api.transport(), clock.clock(), out, err) == 0);
  REQUIRE(api.requests.size() == 1);
  const auto& post = api.requests[0];
  CHECK(post.method == "POST");
  CHECK(post.url == "http://127.0.0.1:9470/api/v1/deployments");
  CHECK(post.bearerToken == "s3cret");
  CHECK(nlohmann::json::parse(post.body) ==
        nlohmann::json{{"service", "shop"}, {"version", "1.5.0"}, {"converge_within", "10m"}});
  CHECK(out.str() == "announced shop 1.5.0 to http://127.0.0.1:9470/\n");
  CHECK(err.str().empty());
  CHECK(envprobe::deploymentBody(deployFlags()) == R"({"service":"shop","version":"1.5.0"})");
}

TEST_CASE("cli: deploy --wait polls until converged", "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(200, kAnnounced),
                 answer(200, deployments(false, {target("a.example", "1.4.2", false, false)})),
                 answer(200, deployments(false, {target("a.example", "1.4.2", false, true)})),
                 answer(200, deployments(true, {target("a.example", "1.5.0", true, true)}))};
  auto flags = deployFlags();
  flags.wait = "10m";
  flags.waitValue = std::chrono::minutes(10);
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "tok", api.transport(), clock.clock(), out, err) == 0);
  REQUIRE(api.requests.size() == 4);
  CHECK(api.requests[1].method == "GET");
  CHECK(api.requests[1].url == "http://127.0.0.1:9470/api/v1/deployments?service=shop");
  CHECK(api.requests[1].bearerToken == "tok");
  CHECK(clock.sleeps == std::vector<envprobe::Duration>(2, std::chrono::seconds(2)));
  CHECK_THAT(out.str(), Contains("HOSTNAME   VISIBILITY  CHECK    ADDRESS         SERVES  MATCHES\n"
                                 "a.example  public      version  127.0.0.1:8443  1.5.0   yes\n"));
  CHECK_THAT(out.str(), EndsWith("converged: every hostname of shop serves 1.5.0\n"));
}

TEST_CASE("cli: deploy --wait asks again while the agent is unreachable or answers 5xx",
          "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(200, kAnnounced),
                 unreachable("agent unreachable: Failed to connect: Connection refused"),
                 answer(503, R"({"status":"error","errorType":"unavailable","error":"busy"})"),
                 answer(200, deployments(true, {target("a.example", "1.5.0", true, true)}))};
  auto flags = deployFlags();
  flags.wait = "1m";
  flags.waitValue = std::chrono::minutes(1);
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "tok", api.transport(), clock.clock(), out, err) == 0);
  CHECK(api.requests.size() == 4);
  CHECK_THAT(err.str(), Contains("Connection refused; asking again"));
  CHECK_THAT(err.str(), Contains("busy (unavailable); asking again"));
  CHECK_THAT(out.str(), EndsWith("converged: every hostname of shop serves 1.5.0\n"));
}

TEST_CASE("cli: deploy --wait still unreachable at the deadline exits 2", "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(200, kAnnounced), unreachable("agent unreachable: timed out")};
  auto flags = deployFlags();
  flags.wait = "5s";
  flags.waitValue = std::chrono::seconds(5);
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "tok", api.transport(), clock.clock(), out, err) == 2);
  CHECK(clock.now - std::chrono::steady_clock::time_point{} == std::chrono::seconds(5));
  CHECK_THAT(err.str(), EndsWith("envprobe: error: GET http://127.0.0.1:9470/api/v1/deployments"
                                 "?service=shop: agent unreachable: timed out\n"));
}

TEST_CASE("cli: deploy --wait that runs out exits 1 and says who serves what", "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(200, kAnnounced),
                 answer(200, deployments(false, {target("a.example", "1.4.2", false, true),
                                                 target("b.example", "1.5.0", true, true),
                                                 target("c.example", "", false, false)}))};
  auto flags = deployFlags();
  flags.wait = "5s";
  flags.waitValue = std::chrono::seconds(5);
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "tok", api.transport(), clock.clock(), out, err) == 1);
  // Polls at 0, 2 s, 4 s and at the deadline (5 s), never sleeping past it.
  CHECK(clock.sleeps == std::vector<envprobe::Duration>{std::chrono::seconds(2),
                                                        std::chrono::seconds(2),
                                                        std::chrono::seconds(1)});
  CHECK(api.requests.size() == 5);
  CHECK_THAT(out.str(),
             Contains("c.example  public      version  127.0.0.1:8443  not probed yet  -"));
  CHECK_THAT(out.str(), EndsWith("not converged after 5s: 1 of 3 hostnames serve another version "
                                 "(a.example serves 1.4.2); 1 not probed yet since the "
                                 "announcement (c.example)\n"));
}

TEST_CASE("cli: the convergence line", "[cli][control]") {
  envprobe::DeploymentState s;
  s.service = "shop";
  s.version = "1.5.0";
  CHECK(envprobe::convergenceLine(s, "10m") ==
        "not converged after 10m: the agent probes no hostname of shop");
  // Two targets of one hostname count once; a failed read shows as no readable version.
  s.targets = {{"1", "shop.example.com", "public", "home", "10.0.0.1:443", "1.4.2", false, true},
               {"2", "shop.example.com", "public", "home", "10.0.0.2:443", "", false, true},
               {"3", "shop.local", "internal", "home", "", "1.5.0", true, true}};
  CHECK(envprobe::convergenceLine(s, "10m") ==
        "not converged after 10m: 1 of 2 hostnames serve another version (shop.example.com "
        "serves 1.4.2 and no readable version)");
  s.targets = {{"2", "x", "", "", "", "", false, false}};
  CHECK(envprobe::convergenceLine(s, "1m") ==
        "not converged after 1m: 1 of 1 hostnames not probed yet since the announcement (x)");
  s.converged = true;
  CHECK(envprobe::convergenceLine(s, "1m") == "converged: every hostname of shop serves 1.5.0");
}

TEST_CASE("cli: deploy errors exit 2 and say which URL and what", "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  std::ostringstream out, err;
  SECTION("wrong token") {
    api.answers = {answer(
        401, R"({"status":"error","errorType":"unauthorized","error":"invalid bearer token"})")};
    CHECK(envprobe::deploy(deployFlags(), "x", api.transport(), clock.clock(), out, err) == 2);
    CHECK(err.str() ==
          "envprobe: error: POST http://127.0.0.1:9470/api/v1/deployments: HTTP 401: "
          "invalid bearer token (unauthorized)\n");
    CHECK(out.str().empty());
  }
  SECTION("unreachable") {
    api.answers = {unreachable("agent unreachable: Failed to connect: Connection refused")};
    CHECK(envprobe::deploy(deployFlags(), "x", api.transport(), clock.clock(), out, err) == 2);
    CHECK_THAT(err.str(), Contains("agent unreachable: Failed to connect"));
  }
  SECTION("a malformed deployment while waiting") {
    api.answers = {
        answer(200, kAnnounced),
        answer(
            200,
            R"({"status":"success","data":[{"service":"shop","version":"1.5.0","converged":"yes","targets":[]}]})")};
    auto flags = deployFlags();
    flags.wait = "1m";
    flags.waitValue = std::chrono::minutes(1);
    CHECK(envprobe::deploy(flags, "x", api.transport(), clock.clock(), out, err) == 2);
    CHECK_THAT(err.str(), Contains("GET http://127.0.0.1:9470/api/v1/deployments?service=shop: "
                                   "HTTP 200 with an answer not as expected: data[0]: "
                                   "\"converged\" is not true or false"));
  }
  SECTION("the agent knows no such deployment") {
    api.answers = {answer(200, kAnnounced), answer(200, R"({"status":"success","data":[]})")};
    auto flags = deployFlags();
    flags.wait = "1m";
    flags.waitValue = std::chrono::minutes(1);
    CHECK(envprobe::deploy(flags, "x", api.transport(), clock.clock(), out, err) == 2);
    CHECK_THAT(err.str(), Contains("the agent knows no deployment of shop"));
  }
}

TEST_CASE("cli: deploy --wait stops with 1 when another version was announced meanwhile",
          "[cli][control]") {
  FakeApi api;
  FakeClock clock;
  api.answers = {answer(200, kAnnounced),
                 answer(200, deployments(true, {target("a", "1.6.0", true, true)}, "1.6.0"))};
  auto flags = deployFlags();
  flags.wait = "1m";
  flags.waitValue = std::chrono::minutes(1);
  std::ostringstream out, err;
  CHECK(envprobe::deploy(flags, "x", api.transport(), clock.clock(), out, err) == 1);
  CHECK_THAT(err.str(), Contains("announced again while waiting: the agent now expects 1.6.0"));
}

// --- gate ------------------------------------------------------------------------------------

namespace {

ControlFlags gateFlags() {
  ControlFlags f;
  f.agent = "http://127.0.0.1:9470";
  f.window = "24h";
  return f;
}

int runGate(FakeApi& api, const ControlFlags& flags, std::ostringstream& out,
            std::ostringstream& err) {
  return envprobe::gate(flags, "", api.transport(), out, err);
}

}  // namespace

TEST_CASE("cli: gate builds its query from the flags given", "[cli][control]") {
  auto flags = gateFlags();
  CHECK(envprobe::gateQuery(flags) == envprobe::QueryItems{{"for", "24h"}});
  flags.service = "shop";
  flags.visibility = "internal";
  flags.allowPartial = true;
  CHECK(envprobe::gateQuery(flags) == envprobe::QueryItems{{"for", "24h"},
                                                           {"service", "shop"},
                                                           {"visibility", "internal"},
                                                           {"allow_partial", "true"}});
}

TEST_CASE("cli: gate pass, fail and no match", "[cli][control]") {
  FakeApi api;
  std::ostringstream out, err;
  SECTION("pass") {
    api.answers = {answer(
        200,
        R"({"status":"success","data":{"pass":true,"window":"24h","matched":5,"failing":[]}})")};
    CHECK(runGate(api, gateFlags(), out, err) == 0);
    CHECK(out.str() == "PASS: 5 targets green for 24h\n");
    CHECK(api.requests.at(0).url == "http://127.0.0.1:9470/api/v1/gate?for=24h");
    CHECK(api.requests.at(0).bearerToken.empty());
  }
  SECTION("fail") {
    api.answers = {answer(
        200, R"({"status":"success","data":{"pass":false,"window":"24h","matched":5,"failing":[
      {"target":"t1","service":"shop","hostname":"shop.example.com","visibility":"public","check":"home","address":"","failed_seconds":73.5,"reason":"http_status","detail":"status 503 not in [200-299]","insufficient_history":false},
      {"target":"t2","service":"shop","hostname":"shop.local","visibility":"internal","check":"home","failed_seconds":0,"reason":"","detail":"","insufficient_history":true}]}})")};
    auto flags = gateFlags();
    flags.service = "shop";
    CHECK(runGate(api, flags, out, err) == 1);
    CHECK(out.str() ==
          "FAIL: 2 of 5 targets not green for 24h\n"
          "HOSTNAME          VISIBILITY  CHECK  FAILED-FOR  REASON                DETAIL\n"
          "shop.example.com  public      home   1m14s       http_status           status 503 not "
          "in [200-299]\n"
          "shop.local        internal    home   -           insufficient history  -\n");
    CHECK(err.str().empty());
  }
  SECTION("fail without --service names the service with the check") {
    api.answers = {answer(200, R"({"status":"success","data":{"pass":false,"matched":1,"failing":[
      {"service":"shop","hostname":"h","check":"home","reason":"timeout"}]}})")};
    CHECK(runGate(api, gateFlags(), out, err) == 1);
    CHECK_THAT(out.str(), Contains("h         -           shop/home  -           timeout"));
  }
  SECTION("no target matches") {
    api.answers = {
        answer(200, R"({"status":"success","data":{"pass":true,"matched":0,"failing":[]}})")};
    auto flags = gateFlags();
    flags.service = "shpo";
    CHECK(runGate(api, flags, out, err) == 2);
    CHECK_THAT(err.str(), Contains("no target matches (service shpo)"));
    CHECK(out.str().empty());
  }
}

TEST_CASE("cli: gate refuses answers not of the API's shape", "[cli][control]") {
  for (const std::string data :
       {R"("yes")", R"({"matched":1})", R"({"pass":"true","matched":1})",
        R"({"pass":false,"matched":-1})", R"({"pass":false,"matched":1.5})",
        R"({"pass":false,"matched":1,"failing":{}})",
        R"({"pass":false,"matched":1,"failing":[{"check":"x"}]})",
        R"({"pass":false,"matched":1,"failing":[{"hostname":"h","failed_seconds":"1m"}]})",
        R"({"pass":false,"matched":1,"failing":[{"hostname":"h","failed_seconds":-3}]})"}) {
    INFO(data);
    FakeApi api;
    api.answers = {answer(200, R"({"status":"success","data":)" + data + "}")};
    std::ostringstream out, err;
    CHECK(runGate(api, gateFlags(), out, err) == 2);
    CHECK_THAT(err.str(), Contains("GET http://127.0.0.1:9470/api/v1/gate?for=24h: HTTP 200 with "
                                   "an answer not as expected"));
  }
}

TEST_CASE("cli: gate's failed-for is whole seconds", "[cli][control]") {
  CHECK(envprobe::failedFor(73.5) == "1m14s");
  CHECK(envprobe::failedFor(0) == "-");
  CHECK(envprobe::failedFor(0.2) == "<1s");
  CHECK(envprobe::failedFor(90000) == "25h");
  CHECK(envprobe::failedFor(1e300) == "8784h");
}
