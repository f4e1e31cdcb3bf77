// The status page with 10,000 targets: every row rendered once; the render time and size are
// printed (hidden benchmark: ./envprobe_tests "[.bench]"), never asserted.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "probe/web/status_page.hpp"

namespace {

envprobe::StatusPageModel bigModel(int n) {
  envprobe::StatusPageModel m;
  m.env = "prod";
  m.nowUnix = 1'700'000'000;
  m.historyKept = true;
  m.rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    envprobe::StatusRow r;
    auto& s = r.state;
    s.service = "service-" + std::to_string(i % 400);
    s.hostname = "host-" + std::to_string(i) + ".prod.example.com";
    s.check = i % 2 ? "home" : "api";
    s.visibility = i % 3 ? "public" : "internal";
    s.address = i % 5 ? "" : "10.0.0." + std::to_string(i % 250) + ":443";
    s.targetId = s.service + "/" + s.check + "/" + s.hostname;
    s.success = i % 50 != 0;
    s.reason = s.success ? envprobe::Reason::None : envprobe::Reason::HttpStatus;
    s.detail = s.success ? "" : "status 503 not in [200-299] <nginx>";
    s.statusCode = s.success ? 200 : 503;
    s.durationSeconds = 0.042;
    s.lastProbeUnix = m.nowUnix - i % 30;
    s.downSinceUnix = s.success ? 0 : m.nowUnix - 3600 - i;
    s.certExpiry = m.nowUnix + (i % 90) * 86400;
    s.version = "1.4." + std::to_string(i % 3);
    r.expectedVersion = i % 7 ? "" : "1.4.2";
    r.bar24h.assign(48, 1);
    if (!s.success) r.bar24h[47] = 0;
    r.bar24h[i % 48] = -1;
    r.availability24h = s.success ? 1.0 : 0.97;
    r.availability7d = 0.9995;
    r.alertState = s.success ? "" : "firing";
    if (i % 10 == 0)
      r.lastChange = envprobe::StatusChange{m.nowUnix - i, s.service,    s.hostname,  s.check,
                                            "server",      "nginx/1.22", "nginx/1.24"};
    m.rows.push_back(std::move(r));
  }
  for (int i = 0; i < 200; ++i)
    m.recentChanges.push_back({m.nowUnix - i * 60, "service-1", "host-1.prod.example.com", "home",
                               "version", "1.4.1", "1.4.2"});
  return m;
}

std::size_t rowCount(const std::string& page) {
  std::size_t n = 0;
  for (auto at = page.find("<tr class=\"row "); at != std::string::npos;
       at = page.find("<tr class=\"row ", at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("status page: 10,000 targets, one row each", "[web][status_page]") {
  const auto page = envprobe::renderStatusPage(bigModel(10'000));
  CHECK(rowCount(page) == 10'000);
  CHECK(page.find("200 failing") != std::string::npos);
}

TEST_CASE("status page: render time and size for 10,000 targets", "[.bench]") {
  const auto model = bigModel(10'000);
  std::size_t size = 0;
  double best = 1e9, total = 0;
  constexpr int kRuns = 10;
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const std::string page = envprobe::renderStatusPage(model);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, ms);
    total += ms;
    size = page.size();
  }
  WARN("10,000 rows (48 buckets each): best " << best << " ms, mean " << total / kRuns
                                              << " ms over " << kRuns << " runs, " << size
                                              << " bytes (" << size / 10'000 << " bytes per row)");
}
