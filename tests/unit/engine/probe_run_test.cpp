// ProbeRun in simulated time: deadline, DNS classification, redirects inside the environment,
// cancellation. No sockets, no sleeps.
#include <catch2/catch.hpp>

#include <map>

#include "probe/engine/probe_run.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;
using namespace std::chrono_literals;

namespace {

// A run with fake adapters; JudgeT is the judge it hands expensive observations to.
template <typename JudgeT>
struct BasicRig {
  ManualTimers timers;
  FakeResolver resolver{timers};
  FakeHttp http{timers};
  JudgeT judge{timers};
  ProbeIo io{timers, resolver, http, judge};
  std::optional<RunOutcome> outcome;
  std::unique_ptr<ProbeRun> run;

  void start(std::shared_ptr<const ProbeTarget> target) {
    run = std::make_unique<ProbeRun>(io, std::move(target),
                                     [this](RunOutcome o) { outcome = std::move(o); });
    run->start();
  }
  const ProbeResult& only() {
    REQUIRE(outcome);
    REQUIRE(outcome->results.size() == 1);
    return outcome->results.front();
  }
};
using Rig = BasicRig<InlineJudge>;

}  // namespace

TEST_CASE("probe run: a silent resolver fails with dns_timeout at the check's deadline") {
  Rig rig;
  rig.start(makeTarget("shop.at.local", "", AddressMode::First, 1s));
  rig.timers.advance(999ms);
  CHECK_FALSE(rig.outcome);
  rig.timers.advance(1ms);
  const auto& r = rig.only();
  CHECK(r.verdict.reason == Reason::DnsTimeout);
  CHECK(r.observation.durationSeconds == Approx(1.0));
  CHECK(rig.resolver.live() == 0);  // the query was cancelled
  CHECK(rig.timers.pendingTimers() == 0);
}

TEST_CASE("probe run: SERVFAIL and REFUSED keep their own reasons") {
  for (auto [error, reason] : {std::pair{TransportError::DnsServfail, Reason::DnsServfail},
                               std::pair{TransportError::DnsRefused, Reason::DnsRefused}}) {
    Rig rig;
    rig.resolver.answers["shop.at.local"] = dnsError(error, "resolving shop.at.local: ...");
    rig.start(makeTarget("shop.at.local"));
    rig.timers.advance(100ms);
    CHECK(rig.only().verdict.reason == reason);
  }
}

TEST_CASE("probe run: a hanging transfer times out at the deadline that started with DNS") {
  Rig rig;
  rig.resolver.latency = 400ms;
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.7"});
  rig.http.respond = [](const HttpRequest&) { return std::optional<Observation>{}; };
  rig.start(makeTarget("shop.at.local", "", AddressMode::First, 1s));
  rig.timers.advance(400ms);
  REQUIRE(rig.http.requests.size() == 1);
  CHECK(rig.http.requests[0].connectAddress == "10.0.0.7");
  CHECK(rig.http.requests[0].timeoutMs == 600);  // what is left of the one deadline
  rig.timers.advance(600ms);
  CHECK(rig.only().verdict.reason == Reason::Timeout);
  CHECK(rig.http.live() == 0);
}

TEST_CASE("probe run: a redirect to another port of the pinned hostname stays on the backend") {
  Rig rig;
  rig.http.respond = [](const HttpRequest& r) -> std::optional<Observation> {
    if (r.url == "http://shop.at.local/") return redirectTo("https://shop.at.local/login", 301);
    return okResponse();
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080"));
  rig.timers.advance(100ms);
  const auto& r = rig.only();
  CHECK(r.verdict.ok);
  CHECK(r.observation.redirects == 1);
  CHECK(r.address == "127.0.0.1:8080");
  REQUIRE(rig.http.requests.size() == 2);
  CHECK(rig.http.requests[0].connectAddress == "127.0.0.1");
  CHECK(rig.http.requests[0].connectPort == 8080);
  // Another port: the backend's address, the new URL's port; never the system resolver.
  CHECK(rig.http.requests[1].connectAddress == "127.0.0.1");
  CHECK(rig.http.requests[1].connectPort == 0);
  CHECK(rig.http.requests[1].port == 443);
  CHECK(rig.resolver.asked.empty());
}

TEST_CASE("probe run: a redirect to another host resolves through the environment's resolver") {
  Rig rig;
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.7"});
  rig.resolver.answers["login.at.local"] = addresses({"10.0.0.9"});
  rig.http.respond = [](const HttpRequest& r) -> std::optional<Observation> {
    if (r.hostname == "shop.at.local") return redirectTo("http://login.at.local:81/");
    return okResponse();
  };
  rig.start(makeTarget("shop.at.local", "", AddressMode::First, 1s, [](HttpCheckSpec& s) {
    s.headers = {{"X-Api-Key", "secret"}};
  }));
  rig.timers.advance(200ms);
  CHECK(rig.only().verdict.ok);
  REQUIRE(rig.http.requests.size() == 2);
  CHECK(rig.http.requests[1].connectAddress == "10.0.0.9");
  CHECK(rig.http.requests[0].sendCustomHeaders);
  CHECK_FALSE(rig.http.requests[1].sendCustomHeaders);  // another origin: no X-Api-Key
}

TEST_CASE("probe run: redirects to other schemes are not followed") {
  Rig rig;
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return redirectTo("ftp://127.0.0.1:2121/file");
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080"));
  rig.timers.advance(100ms);
  const auto& r = rig.only();
  CHECK(r.verdict.reason == Reason::Redirects);
  CHECK_THAT(r.verdict.detail, Catch::Contains("ftp://"));
  CHECK(rig.http.requests.size() == 1);
}

TEST_CASE("probe run: a redirect loop stops at max_redirects") {
  Rig rig;
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return redirectTo("http://shop.at.local/again");
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                       [](HttpCheckSpec& s) { s.maxRedirects = 3; }));
  rig.timers.advance(500ms);
  const auto& r = rig.only();
  CHECK(r.verdict.reason == Reason::Redirects);
  CHECK(r.observation.redirects == 3);
  CHECK(rig.http.requests.size() == 4);
}

TEST_CASE("probe run: 303 turns a POST into a GET without its body") {
  Rig rig;
  rig.http.respond = [](const HttpRequest& r) -> std::optional<Observation> {
    if (r.url.find("/done") == std::string::npos) return redirectTo("http://shop.at.local/done", 303);
    return okResponse();
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                       [](HttpCheckSpec& s) {
                         s.method = "POST";
                         s.body = "x=1";
                       }));
  rig.timers.advance(100ms);
  CHECK(rig.only().verdict.ok);
  REQUIRE(rig.http.requests.size() == 2);
  CHECK(rig.http.requests[1].method == "GET");
  CHECK_FALSE(rig.http.requests[1].sendBody);
}

TEST_CASE("probe run: address_mode all probes every address; cancel stops everything") {
  Rig rig;
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.1", "10.0.0.2"});
  rig.http.respond = [](const HttpRequest&) { return std::optional<Observation>{}; };
  rig.start(makeTarget("shop.at.local", "", AddressMode::All));
  rig.timers.advance(50ms);
  CHECK(rig.http.live() == 2);
  rig.run->cancel();
  CHECK(rig.http.live() == 0);
  rig.timers.advance(5s);
  CHECK_FALSE(rig.outcome);  // never called back after cancel
  CHECK(rig.timers.pendingTimers() == 0);
}

TEST_CASE("probe run: address_mode all reports a DNS failure as such") {
  Rig rig;
  rig.resolver.answers["shop.at.local"] = dnsError(TransportError::DnsNxdomain, "nxdomain");
  rig.start(makeTarget("shop.at.local", "", AddressMode::All));
  rig.timers.advance(50ms);
  REQUIRE(rig.outcome);
  CHECK(rig.outcome->dnsFailed);
  CHECK(rig.only().verdict.reason == Reason::DnsNxdomain);
}

TEST_CASE("probe run: secret query parameters go on the first request only, never in details") {
  Rig rig;
  rig.http.respond = [](const HttpRequest& r) -> std::optional<Observation> {
    if (r.hostname == "shop.at.local") return redirectTo("http://other.at.local/?token=echoed");
    return okResponse(500);
  };
  rig.resolver.answers["other.at.local"] = addresses({"10.0.0.9"});
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                       [](HttpCheckSpec& s) {
                         s.secrets.query = "sig=abc";
                         s.maxRedirects = 0;
                       }));
  rig.timers.advance(100ms);
  REQUIRE(rig.http.requests.size() == 1);
  CHECK(rig.http.requests[0].url == "http://shop.at.local/?sig=abc");
  const auto& r = rig.only();
  CHECK(r.verdict.reason == Reason::Redirects);
  CHECK_THAT(r.verdict.detail, Catch::Contains("token=<redacted>"));
  CHECK_THAT(r.verdict.detail, !Catch::Contains("echoed"));
}

TEST_CASE("probe run: the result carries the whole DNS answer as a sorted set; a pinned backend none") {
  Rig rig;
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.9", "10.0.0.7", "10.0.0.9"});
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse();
  };
  rig.start(makeTarget("shop.at.local"));
  rig.timers.advance(200ms);
  CHECK(rig.only().observation.resolvedAddresses == "10.0.0.7,10.0.0.9");

  Rig pinned;
  pinned.http.respond = rig.http.respond;
  pinned.start(makeTarget("shop.at.local", "10.0.0.5:80"));
  pinned.timers.advance(200ms);
  CHECK(pinned.only().observation.resolvedAddresses.empty());
}

namespace {

// The pool's stand-in: counts what it is asked to judge and holds it until judgeHeld().
class CountingJudge : public Judge {
 public:
  explicit CountingJudge(ManualTimers&) {}
  Ticket judge(std::shared_ptr<const ProbeTarget> target, Observation observation,
               Completion done) override {
    ++asked;
    held_.emplace(next_, Job{std::move(target), std::move(observation), std::move(done)});
    return next_++;
  }
  void cancel(Ticket ticket) override { cancelled += held_.erase(ticket); }
  void judgeHeld() {
    auto jobs = std::move(held_);
    held_.clear();
    for (auto& [ticket, job] : jobs)
      job.done(job.observation, job.target->assertions->evaluate(job.observation));
  }
  std::size_t held() const { return held_.size(); }
  std::size_t asked = 0;
  std::size_t cancelled = 0;

 private:
  struct Job {
    std::shared_ptr<const ProbeTarget> target;
    Observation observation;
    Completion done;
  };
  std::map<Ticket, Job> held_;
  Ticket next_ = 1;
};

using CountingRig = BasicRig<CountingJudge>;

auto bodyRegex(std::string pattern) {
  return [pattern](HttpCheckSpec& s) { s.expect.bodyRegex = {pattern}; };
}

}  // namespace

TEST_CASE("probe run: cheap assertions are judged on the loop, without the judge") {
  CountingRig rig;
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    auto o = okResponse(200, std::string(1 << 20, 'x'));  // a large body no step reads
    o.headers = {{"Server", "nginx"}};
    return o;
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080"));
  rig.timers.advance(10ms);  // the transfer's latency: the verdict comes with its completion
  REQUIRE(rig.outcome);
  REQUIRE(rig.outcome->results.size() == 1);
  const ProbeResult& r = rig.outcome->results.front();
  CHECK(r.verdict.ok);
  CHECK(r.observation.body.empty());  // judged, then dropped
  CHECK(r.observation.resolvedAddress == "127.0.0.1");
  CHECK(rig.judge.asked == 0);
  CHECK(rig.timers.pendingTimers() == 0);

  CountingRig failing;
  failing.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(503);
  };
  failing.start(makeTarget("shop.at.local", "127.0.0.1:8080"));
  failing.timers.advance(10ms);
  REQUIRE(failing.outcome);
  CHECK(failing.outcome->results.front().verdict.reason == Reason::HttpStatus);
  CHECK(failing.judge.asked == 0);
}

TEST_CASE("probe run: a body regex is judged by the judge, even over a small body") {
  CountingRig small;
  small.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(200, "<title>Shop</title>");
  };
  small.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                         bodyRegex("<title>Shop</title>")));
  small.timers.advance(10ms);
  CHECK(small.judge.asked == 1);
  small.judge.judgeHeld();
  REQUIRE(small.outcome);
  CHECK(small.outcome->results.front().verdict.ok);

  CountingRig large;
  large.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(200, std::string(64 * 1024, 'x') + "<title>Other</title>");
  };
  large.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                         bodyRegex("<title>Shop</title>")));
  large.timers.advance(10ms);
  CHECK(large.judge.asked == 1);
  CHECK_FALSE(large.outcome);
  large.judge.judgeHeld();
  REQUIRE(large.outcome);
  const ProbeResult& r = large.outcome->results.front();
  CHECK(r.verdict.reason == Reason::Body);
  CHECK(r.verdict.failedDueToRegex);
  CHECK(r.observation.body.empty());
}

TEST_CASE("probe run: a body substring over a small body is judged on the loop, over a large one by the judge") {
  CountingRig small;
  small.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(200, "<title>Shop</title>");
  };
  small.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                         [](HttpCheckSpec& s) { s.expect.bodyContains = {"Shop"}; }));
  small.timers.advance(10ms);
  REQUIRE(small.outcome);
  CHECK(small.outcome->results.front().verdict.ok);
  CHECK(small.judge.asked == 0);

  CountingRig large;
  large.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(200, std::string(64 * 1024, 'x') + "Shop");
  };
  large.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                         [](HttpCheckSpec& s) { s.expect.bodyContains = {"Shop"}; }));
  large.timers.advance(10ms);
  CHECK(large.judge.asked == 1);
  large.judge.judgeHeld();
  REQUIRE(large.outcome);
  CHECK(large.outcome->results.front().verdict.ok);
}

TEST_CASE("probe run: cancel while the judge holds an expensive observation; never called back") {
  CountingRig rig;
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse(200, std::string(64 * 1024, 'x'));
  };
  rig.start(makeTarget("shop.at.local", "127.0.0.1:8080", AddressMode::First, 1s,
                       bodyRegex("x+")));
  rig.timers.advance(10ms);  // the transfer is done, the judge holds the observation
  REQUIRE(rig.judge.held() == 1);
  rig.run->cancel();
  CHECK(rig.judge.cancelled == 1);
  rig.judge.judgeHeld();
  rig.timers.advance(5s);
  CHECK_FALSE(rig.outcome);
}

TEST_CASE("probe run: at the deadline every hanging address is judged on the loop") {
  CountingRig rig;
  rig.resolver.answers["shop.at.local"] = addresses({"10.0.0.1", "10.0.0.2", "10.0.0.3"});
  rig.http.respond = [](const HttpRequest& r) -> std::optional<Observation> {
    if (r.connectAddress == "10.0.0.2") return okResponse();
    return std::nullopt;  // hangs
  };
  rig.start(makeTarget("shop.at.local", "", AddressMode::All, 1s));
  rig.timers.advance(100ms);
  CHECK_FALSE(rig.outcome);
  rig.timers.advance(900ms);
  REQUIRE(rig.outcome);
  REQUIRE(rig.outcome->results.size() == 3);
  std::size_t timeouts = 0;
  for (const auto& r : rig.outcome->results) timeouts += r.verdict.reason == Reason::Timeout;
  CHECK(timeouts == 2);
  CHECK(rig.judge.asked == 0);
  CHECK(rig.http.live() == 0);
  CHECK(rig.timers.pendingTimers() == 0);
}

TEST_CASE("probe run: the run may be destroyed by its own completion after judging on the loop") {
  CountingRig rig;
  rig.http.respond = [](const HttpRequest&) -> std::optional<Observation> {
    return okResponse();
  };
  std::optional<bool> ok;
  rig.run = std::make_unique<ProbeRun>(rig.io, makeTarget("shop.at.local", "127.0.0.1:8080"),
                                       [&](RunOutcome o) {
                                         ok = o.results.front().verdict.ok;
                                         rig.run.reset();  // as a session does
                                       });
  rig.run->start();
  rig.timers.advance(10ms);
  CHECK(ok == true);
  CHECK_FALSE(rig.run);
}
