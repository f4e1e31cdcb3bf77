// The probe series written as text (ProbeMetrics::writeText) against the reference: Collect()
// serialized by prometheus::TextSerializer, as /metrics was built before.
#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "probe/metrics/probe_metrics.hpp"
#include "probe/metrics/text_exposition.hpp"
#include "tests/unit/metrics/exposition_compare.hpp"
#include "tests/unit/metrics/synthetic_series.hpp"

using envprobe::MetricsSettings;
using envprobe::ProbeMetrics;
using envprobe::ProbeResult;
using envprobe::TextWriter;
using envprobe::testing::expositionDifference;
using envprobe::testing::fillSynthetic;
using envprobe::testing::syntheticResult;

namespace {

std::string written(const ProbeMetrics& metrics, std::size_t bufferSize = TextWriter::kBufferSize) {
  std::string body;
  TextWriter out(
      [&](std::string_view b) {
        body.append(b);
        return true;
      },
      bufferSize);
  metrics.writeText(out);
  out.flush();
  return body;
}

std::string reference(const ProbeMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.Collect());
}

// Family name -> how many HELP and TYPE lines it has; also every sample's family is declared.
std::map<std::string, int> headerCounts(const std::string& body) {
  std::map<std::string, int> counts;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      ++counts[name];
    }
  }
  return counts;
}

}  // namespace

TEST_CASE("probe series text: equals Collect() through TextSerializer", "[probe_metrics][text]") {
  ProbeMetrics metrics;
  fillSynthetic(metrics, 300);
  const std::string text = written(metrics);
  CHECK(text.size() > 100000);
  CHECK(expositionDifference(reference(metrics), text) == "");
  // Any buffer size gives the same bytes.
  CHECK(written(metrics, 1) == text);
  CHECK(written(metrics, 1000) == text);
}

TEST_CASE("probe series text: hostile label values from targets", "[probe_metrics][text]") {
  ProbeMetrics metrics;
  ProbeResult r = syntheticResult(1);
  r.observation.tls.subject = R"(CN="quoted\name", O=Evil
fake_metric{a="b"} 1)";
  r.observation.tls.issuer = "CN=\\";
  r.observation.tls.subjectAlternative = "a\"} 1\n";
  r.verdict.version = "v1\"\n\\";
  metrics.record(r);
  const std::string text = written(metrics);
  CHECK(text == reference(metrics));  // valid UTF-8: escaped the same way
  CHECK(text.find("subject=\"CN=\\\"quoted\\\\name\\\", O=Evil\\nfake_metric{a=\\\"b\\\"} 1\"") !=
        std::string::npos);
  CHECK(text.find("\nfake_metric") == std::string::npos);
  CHECK(text.find("version=\"v1\\\"\\n\\\\\"") != std::string::npos);

  // Invalid UTF-8 (a certificate subject in Latin-1): replaced, where the old path sent it raw
  // and Prometheus refused the whole scrape.
  ProbeResult latin = syntheticResult(2);
  latin.observation.tls.present = true;
  latin.observation.tls.subject = "CN=M\xFCnchen";
  metrics.record(latin);
  const std::string withLatin = written(metrics);
  CHECK(withLatin.find("subject=\"CN=M\xEF\xBF\xBDnchen\"") != std::string::npos);
  CHECK(withLatin.find('\xFC') == std::string::npos);
}

TEST_CASE("probe series text: each family's HELP and TYPE once, in a stable order",
          "[probe_metrics][text]") {
  ProbeMetrics metrics;
  fillSynthetic(metrics, 50);
  const std::string text = written(metrics);
  const auto counts = headerCounts(text);
  CHECK(counts.size() == 22);
  for (const auto& [name, n] : counts) {
    CAPTURE(name);
    CHECK(n == 2);
  }
  // Samples of a family are contiguous: once a family's lines end it never comes back.
  std::set<std::string> done;
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (name != current) {
      CHECK(done.count(name) == 0);
      done.insert(current);
      current = name;
    }
  }
  CHECK(text.rfind("# HELP probe_success ", 0) == 0);
  CHECK(written(metrics) == text);
}

TEST_CASE("probe series text: empty metrics still declare the families", "[probe_metrics][text]") {
  ProbeMetrics metrics;
  const std::string text = written(metrics);
  CHECK(text == reference(metrics));
  CHECK(headerCounts(text).size() == 22);
}

TEST_CASE("probe series text: a snapshot is not changed by later results",
          "[probe_metrics][text]") {
  ProbeMetrics metrics;
  ProbeResult r = syntheticResult(3);
  metrics.record(r);
  const auto before = metrics.exposedSnapshot();
  REQUIRE(before.size() == 1);
  const double duration = before[0]->state.durationSeconds;
  r.observation.durationSeconds = duration + 7;
  metrics.record(r);  // copied on write: the snapshot keeps its values
  CHECK(before[0]->state.durationSeconds == duration);
  CHECK(before[0]->state.probes == 1);
  auto after = metrics.exposedSnapshot();
  CHECK(after[0]->state.durationSeconds == duration + 7);
  CHECK(after[0]->state.probes == 2);
  CHECK(after[0] != before[0]);
  // Removed while a snapshot holds it: the snapshot still reads it.
  const auto& target = r.target->target;
  metrics.removeSeries(target.id, r.address);
  CHECK(after[0]->state.probes == 2);
  CHECK(metrics.exposedSnapshot().empty());
  after.release();
  metrics.record(r);  // back, as a new series
  // Without a snapshot that holds it, a result updates the series in place.
  const envprobe::ExposedSeries* where = nullptr;
  {
    const auto held = metrics.exposedSnapshot();
    where = held[0];
    CHECK(where->state.probes == 1);
  }
  metrics.record(r);
  const auto now = metrics.exposedSnapshot();
  CHECK(now[0] == where);
  CHECK(now[0]->state.probes == 2);
}

TEST_CASE("probe series text: phases: false drops probe_http_duration_seconds",
          "[probe_metrics][text][metrics_options]") {
  MetricsSettings settings;
  settings.phases = false;
  ProbeMetrics without(settings), with;
  fillSynthetic(without, 20);
  fillSynthetic(with, 20);
  const std::string text = written(without);
  CHECK(text.find("probe_http_duration_seconds") == std::string::npos);
  CHECK(expositionDifference(reference(without), text) == "");
  CHECK(headerCounts(text).size() == 21);
  const std::string full = written(with);
  CHECK(full.find("probe_http_duration_seconds{") != std::string::npos);
  CHECK(full.size() > text.size());
}

TEST_CASE("probe series text: the lock is held for a pointer copy only",
          "[probe_metrics][.bench]") {
  ProbeMetrics metrics;
  fillSynthetic(metrics, 100000);
  using Clock = std::chrono::steady_clock;
  double best = 1e9, total = 0;
  constexpr int kRounds = 20;
  for (int i = 0; i < kRounds; ++i) {
    const auto start = Clock::now();
    const auto snapshot = metrics.exposedSnapshot();
    const double callUs = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    const double us = static_cast<double>(metrics.lastSnapshotLockNanos()) / 1000;
    if (i == 0) std::printf("whole snapshot call (the sort after the lock included): %.0f us\n", callUs);
    best = std::min(best, us);
    total += us;
    REQUIRE(snapshot.size() == 100000);
  }
  std::printf("lock hold (snapshot of 100000 series): best %.0f us, mean %.0f us\n", best,
              total / kRounds);
}

TEST_CASE("probe series: removing series in the middle keeps every other series found",
          "[probe_metrics][text]") {
  envprobe::ProbeMetrics metrics;
  std::vector<envprobe::ProbeResult> results;
  for (std::size_t i = 0; i < 40; ++i) results.push_back(envprobe::testing::syntheticResult(i));
  for (const auto& r : results) metrics.record(r);
  // Remove every third series: each removal moves the last slot into the freed one.
  for (std::size_t i = 0; i < results.size(); i += 3)
    metrics.removeSeries(results[i].target->target.id, results[i].address);
  // Every remaining series is still found: a second result lands on it, not on a new series.
  for (std::size_t i = 0; i < results.size(); ++i)
    if (i % 3 != 0) metrics.record(results[i]);
  const auto series = metrics.snapshot();
  CHECK(series.size() == results.size() - (results.size() + 2) / 3);
  for (const auto& s : series) CHECK(s.probes == 2);
  // In seriesKey order.
  for (std::size_t i = 1; i < series.size(); ++i)
    CHECK(envprobe::seriesKey(series[i - 1].targetId, series[i - 1].address) <
          envprobe::seriesKey(series[i].targetId, series[i].address));
  // A removed series comes back as a new one.
  metrics.record(results[0]);
  CHECK(metrics.snapshot().size() == series.size() + 1);
}

TEST_CASE("probe series: snapshots stay in seriesKey order while series come, go and change",
          "[probe_metrics][text]") {
  envprobe::ProbeMetrics metrics;
  std::vector<envprobe::ProbeResult> results;
  for (std::size_t i = 0; i < 30; ++i) results.push_back(envprobe::testing::syntheticResult(i));
  auto inOrder = [&](std::size_t expected) {
    const auto snapshot = metrics.exposedSnapshot();
    REQUIRE(snapshot.size() == expected);
    for (std::size_t i = 1; i < snapshot.size(); ++i)
      CHECK(envprobe::seriesKeyLess(*snapshot[i - 1], *snapshot[i]));
    return snapshot.size();
  };
  // Recorded back to front, so slot order is the reverse of key order.
  for (std::size_t i = 20; i-- > 0;) metrics.record(results[i]);
  inOrder(20);
  // Same series, new results: the order worked out last time is used, with the new versions.
  for (std::size_t i = 0; i < 20; ++i) metrics.record(results[i]);
  {
    const auto snapshot = metrics.exposedSnapshot();
    for (const auto* s : snapshot) CHECK(s->state.probes == 2);
  }
  inOrder(20);
  for (std::size_t i = 20; i < 30; ++i) metrics.record(results[i]);  // new series
  inOrder(30);
  metrics.removeSeries(results[0].target->target.id, results[0].address);  // the last slot moves
  metrics.removeSeries(results[17].target->target.id, results[17].address);
  inOrder(28);
  inOrder(28);
  metrics.record(results[0]);
  inOrder(29);
}
