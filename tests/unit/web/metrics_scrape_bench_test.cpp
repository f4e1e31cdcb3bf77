// /metrics at 100,000 series through a real HttpServer on loopback: bytes, CPU of one scrape
// (plain and gzip), the lock hold, memory before, during and after; and the old path (every
// Collect() serialized whole by TextSerializer) in the same run. Hidden: run it by its tag,
//   ./build/tests/envprobe_tests "[.bench][metrics_scrape]"
#include <sys/resource.h>

#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "probe/metrics/agent_metrics.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/metrics/text_exposition.hpp"
#include "probe/web/http_server.hpp"
#include "tests/unit/metrics/synthetic_series.hpp"
#include "tests/unit/web/http_client.hpp"

namespace {

constexpr std::size_t kSeries = 100000;

double cpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// VmRSS or VmHWM of this process, MiB.
double statusMiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  return -1;
}

void resetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// One scrape that counts what arrives and keeps nothing.
struct Scrape {
  std::size_t bytes = 0;
  double serverCpu = 0;  // the process's CPU minus this (client) thread's
  double wallSeconds = 0;
};

Scrape scrape(int port, bool gzip) {
  const double selfBefore = cpuSeconds(RUSAGE_SELF), threadBefore = cpuSeconds(RUSAGE_THREAD);
  const auto start = std::chrono::steady_clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string request = std::string("GET /metrics HTTP/1.1\r\nHost: t\r\n") +
                              (gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  Scrape s;
  std::string buf(1 << 16, '\0');
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) s.bytes += n;
  ::close(fd);
  s.wallSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.serverCpu =
      (cpuSeconds(RUSAGE_SELF) - selfBefore) - (cpuSeconds(RUSAGE_THREAD) - threadBefore);
  return s;
}

std::size_t samples(const std::string& body) {
  std::size_t n = 0;
  for (std::size_t at = 0; at < body.size();) {
    const auto eol = body.find('\n', at);
    if (body[at] != '#') ++n;
    at = eol == std::string::npos ? body.size() : eol + 1;
  }
  return n;
}

}  // namespace

TEST_CASE("metrics scrape at 100,000 series: streamed against the old path",
          "[.bench][metrics_scrape]") {
  auto registry = std::make_shared<prometheus::Registry>();
  auto probes = std::make_shared<envprobe::ProbeMetrics>();
  envprobe::AgentMetrics agent(*registry, "at");
  for (std::size_t i = 0; i < kSeries; ++i) {
    const auto r = envprobe::testing::syntheticResult(i);
    probes->record(r);
    const auto& t = r.target->target;
    agent.observeProbe(t.service, t.check, toString(t.visibility), 0.2, r.verdict.ok);
  }
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables{registry, probes};
  envprobe::HttpServer server("127.0.0.1:0", collectables);

  const auto t0 = std::chrono::steady_clock::now();
  auto snapshot = probes->exposedSnapshot();
  const double callMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("series: %zu; lock hold of the snapshot: %.0f us (the whole call, sort included: "
              "%.1f ms)\n",
              snapshot.size(), static_cast<double>(probes->lastSnapshotLockNanos()) / 1000,
              callMs);
  snapshot.release();

  const double rssStart = statusMiB("VmRSS");
  for (const bool gzip : {false, true, false}) {
    resetPeak();
    const double before = statusMiB("VmRSS");
    const Scrape s = scrape(server.port(), gzip);
    std::printf("streamed %-5s: %9zu bytes  server CPU %.2f s  wall %.2f s  RSS %.0f -> peak %.0f "
                "-> after %.0f MiB\n",
                gzip ? "gzip" : "plain", s.bytes, s.serverCpu, s.wallSeconds, before,
                statusMiB("VmHWM"), statusMiB("VmRSS"));
  }

  resetPeak();
  const double before = statusMiB("VmRSS");
  const double cpu0 = cpuSeconds(RUSAGE_THREAD);
  std::size_t oldBytes = 0, oldSamples = 0;
  {
    const std::string body = envprobe::serializeCollected(collectables);
    oldBytes = body.size();
    oldSamples = samples(body);
  }
  const double oldCpu = cpuSeconds(RUSAGE_THREAD) - cpu0;
  std::printf("old path     : %9zu bytes  CPU %.2f s (Collect + TextSerializer, one string)  "
              "RSS %.0f -> peak %.0f -> after %.0f MiB\n",
              oldBytes, oldCpu, before, statusMiB("VmHWM"), statusMiB("VmRSS"));
  std::printf("samples: %zu, %.1f per series (the per-service histogram included); RSS at start "
              "%.0f MiB\n",
              oldSamples, static_cast<double>(oldSamples) / kSeries, rssStart);
}
