// State-change log lines in simulated time: one line when a series goes down, one when it
// recovers, nothing in between, secrets never shown.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/base/logging.hpp"
#include "probe/engine/state_log_sink.hpp"
#include "tests/unit/engine/fakes.hpp"

using namespace envprobe;
using namespace envprobe::testing;
using namespace std::chrono_literals;

namespace {

// Captures the log as parsed JSON lines for the test's lifetime.
struct CapturedLog {
  std::vector<std::string> raw;
  LogFormat before = logFormat();

  CapturedLog() {
    setLogFormat(LogFormat::Json);
    setLogSinkForTest([this](std::string_view line) { raw.emplace_back(line); });
  }
  ~CapturedLog() {
    setLogSinkForTest(nullptr);
    setLogFormat(before);
  }
  std::vector<nlohmann::json> take() {
    std::vector<nlohmann::json> out;
    for (const auto& line : raw) out.push_back(nlohmann::json::parse(line));
    raw.clear();
    return out;
  }
};

ProbeResult result(const std::shared_ptr<const ProbeTarget>& target, const std::string& address,
                   bool ok, Reason reason = Reason::None, std::string detail = "") {
  ProbeResult r;
  r.target = target;
  r.address = address;
  r.verdict.ok = ok;
  r.verdict.reason = ok ? Reason::None : reason;
  r.verdict.detail = std::move(detail);
  return r;
}

}  // namespace

TEST_CASE("state log: a series that fails first logs down once, then recovered with its duration",
          "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local", "127.0.0.1:8080");
  const std::string addr = "127.0.0.1:8080";

  sink.onResult(result(target, addr, false, Reason::Connect, "connection refused"));
  auto lines = log.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["level"] == "info");
  CHECK(lines[0]["msg"] == "target down");
  CHECK(lines[0]["target"] == target->target.id);
  CHECK(lines[0]["address"] == addr);
  CHECK(lines[0]["url"] == "http://shop.at.local/");
  CHECK(lines[0]["reason"] == "connect");
  CHECK(lines[0]["detail"] == "connection refused");

  // Still down for the same reason: nothing more.
  for (int i = 0; i < 5; ++i) {
    clock.advance(10s);
    sink.onResult(result(target, addr, false, Reason::Connect, "connection refused"));
  }
  CHECK(log.take().empty());

  clock.advance(40s);
  sink.onResult(result(target, addr, true));
  lines = log.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["msg"] == "target recovered");
  CHECK(lines[0]["target"] == target->target.id);
  CHECK(lines[0]["address"] == addr);
  CHECK(lines[0]["reason"] == "connect");
  REQUIRE(lines[0]["down_for_seconds"].is_number());
  CHECK(lines[0]["down_for_seconds"].get<double>() == 90.0);
  CHECK_FALSE(lines[0].contains("detail"));

  // Up and staying up: nothing.
  clock.advance(10s);
  sink.onResult(result(target, addr, true));
  CHECK(log.take().empty());
}

TEST_CASE("state log: a first result that passes logs nothing; a later failure logs down",
          "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local");

  sink.onResult(result(target, "10.0.0.1", true));
  CHECK(log.take().empty());
  clock.advance(10s);
  sink.onResult(result(target, "10.0.0.1", false, Reason::HttpStatus, "status 400 not in [200-299]"));
  const auto lines = log.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["msg"] == "target down");
  CHECK(lines[0]["reason"] == "http_status");
  CHECK(lines[0]["detail"] == "status 400 not in [200-299]");
  CHECK_FALSE(lines[0].contains("previous_reason"));
}

TEST_CASE("state log: a new reason while down logs down again; the outage keeps its start",
          "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local");

  sink.onResult(result(target, "10.0.0.1", false, Reason::Connect, "refused"));
  clock.advance(30s);
  sink.onResult(result(target, "10.0.0.1", false, Reason::HttpStatus, "status 502"));
  auto lines = log.take();
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["msg"] == "target down");
  CHECK(lines[1]["reason"] == "http_status");
  CHECK(lines[1]["previous_reason"] == "connect");
  CHECK(lines[1]["detail"] == "status 502");
  CHECK(lines[1]["down_for_seconds"].get<double>() == 30.0);

  clock.advance(10s);
  sink.onResult(result(target, "10.0.0.1", false, Reason::HttpStatus, "status 503"));
  CHECK(log.take().empty());  // same reason, another detail: not news

  clock.advance(10s);
  sink.onResult(result(target, "10.0.0.1", true));
  lines = log.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["msg"] == "target recovered");
  CHECK(lines[0]["reason"] == "http_status");
  CHECK(lines[0]["down_for_seconds"].get<double>() == 50.0);
}

TEST_CASE("state log: each address of a target is its own series", "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local", "", AddressMode::All);

  sink.onResult(result(target, "10.0.0.1", true));
  sink.onResult(result(target, "10.0.0.2", false, Reason::Timeout, "timed out"));
  auto lines = log.take();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["address"] == "10.0.0.2");

  clock.advance(5s);
  sink.onResult(result(target, "10.0.0.1", false, Reason::Timeout, "timed out"));
  sink.onResult(result(target, "10.0.0.2", true));
  lines = log.take();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["msg"] == "target down");
  CHECK(lines[0]["address"] == "10.0.0.1");
  CHECK(lines[1]["msg"] == "target recovered");
  CHECK(lines[1]["address"] == "10.0.0.2");
  CHECK(sink.trackedSeries() == 1);  // only the series that is down now is kept
}

TEST_CASE("state log: series that are up cost no state", "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local", "", AddressMode::All);
  for (int i = 0; i < 3; ++i) sink.onResult(result(target, "10.0.0." + std::to_string(i), true));
  CHECK(sink.trackedSeries() == 0);
  sink.onResult(result(target, "10.0.0.1", false, Reason::Timeout, "timed out"));
  CHECK(sink.trackedSeries() == 1);
  sink.onResult(result(target, "10.0.0.1", true));
  CHECK(sink.trackedSeries() == 0);
  CHECK(log.take().size() == 2);
}

TEST_CASE("state log: a removed series is forgotten without a line", "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local");

  sink.onResult(result(target, "10.0.0.1", false, Reason::Connect, "refused"));
  log.take();
  sink.onSeriesRemoved(target->target, "10.0.0.1");
  CHECK(log.take().empty());
  CHECK(sink.trackedSeries() == 0);

  // Back again: a new series, whose first failure is news again and whose pass is not.
  clock.advance(10s);
  sink.onResult(result(target, "10.0.0.1", false, Reason::Connect, "refused"));
  CHECK(log.take().size() == 1);
  sink.onSeriesRemoved(target->target, "10.0.0.1");
  sink.onResult(result(target, "10.0.0.1", true));
  CHECK(log.take().empty());
}

TEST_CASE("state log: the URL is redacted, no secret reaches the line", "[state_log]") {
  CapturedLog log;
  ManualTimers clock;
  StateLogSink sink(clock);
  auto prepared = std::make_shared<ProbeTarget>(*makeTarget("shop.at.local"));
  prepared->target.url = "http://user:hunter2@shop.at.local/health?token=s3cr3t";
  const std::shared_ptr<const ProbeTarget> target = prepared;

  sink.onResult(result(target, "10.0.0.1", false, Reason::Connect, "refused"));
  clock.advance(10s);
  sink.onResult(result(target, "10.0.0.1", true));
  REQUIRE(log.raw.size() == 2);
  for (const auto& line : log.raw) {
    CHECK(line.find("hunter2") == std::string::npos);
    CHECK(line.find("s3cr3t") == std::string::npos);
    CHECK(line.find("<redacted>") != std::string::npos);
  }
}

TEST_CASE("state log: logfmt writes down_for_seconds bare", "[state_log]") {
  CapturedLog log;
  setLogFormat(LogFormat::Logfmt);
  ManualTimers clock;
  StateLogSink sink(clock);
  const auto target = makeTarget("shop.at.local");
  sink.onResult(result(target, "10.0.0.1", false, Reason::Connect, "refused"));
  clock.advance(2500ms);
  sink.onResult(result(target, "10.0.0.1", true));
  REQUIRE(log.raw.size() == 2);
  CHECK(log.raw[1].find(" msg=\"target recovered\" ") != std::string::npos);
  CHECK(log.raw[1].ends_with(" reason=connect down_for_seconds=2.5"));
}
