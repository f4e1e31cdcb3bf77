#pragma once
// Synthetic probe results for the exposition tests and benchmarks: n targets with varied facts
// (failing ones, TLS ones, versions, changes), recorded into a ProbeMetrics.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "probe/metrics/probe_metrics.hpp"

namespace envprobe::testing {

inline ProbeResult syntheticResult(std::size_t i) {
  Target t;
  t.env = "at";
  t.service = "svc" + std::to_string(i % 97);
  t.check = i % 3 == 0 ? "home" : "health";
  t.hostname = "host" + std::to_string(i) + ".example.com";
  t.visibility = i % 2 ? Visibility::Public : Visibility::Internal;
  t.url = "https://" + t.hostname + "/" + t.check;
  t.instance = t.url;
  static const auto spec = std::make_shared<const HttpCheckSpec>();
  t.http = spec;
  t.id = t.env + "/" + t.service + "/" + t.check + "/" + toString(t.visibility) + "/" + t.hostname;
  ProbeResult r;
  r.target = prepareTarget(std::move(t), nullptr);
  if (i % 5 == 0) r.address = "10.0." + std::to_string(i % 250) + "." + std::to_string(i % 7);
  Observation& o = r.observation;
  o.durationSeconds = static_cast<double>(125 + i % 1000) / 1000.0;  // as curl's microseconds
  o.statusCode = i % 11 == 0 ? 503 : 200;
  o.phases = {0.001, 0.002, i % 4 ? 0.0035 : 0, 0.05, 0.000125};
  o.dnsSeconds = 0.001;
  o.contentLength = static_cast<std::int64_t>(1000 + i);
  o.uncompressedBodyLength = static_cast<std::int64_t>(2000 + i);
  o.httpVersion = i % 2 ? 2 : 1.1;
  o.ssl = i % 4 != 0;
  o.redirects = static_cast<int>(i % 3);
  o.resolvedAddress = "192.0.2." + std::to_string(i % 250);
  if (o.ssl) {
    o.cert.present = true;
    o.cert.earliestExpiryUnix = 1800000000 + static_cast<std::int64_t>(i);
    o.tls.present = true;
    o.tls.version = "TLS 1.3";
    o.tls.fingerprintSha256 = std::string(64, 'a');
    o.tls.subject = "CN=host" + std::to_string(i) + ".example.com,O=Example";
    o.tls.issuer = "CN=Example CA,O=Example";
    o.tls.subjectAlternative = "host" + std::to_string(i) + ".example.com";
    o.tls.serialNumber = "1f" + std::to_string(i);
    o.tls.chainVerified = i % 8 != 1;
    o.tls.lastChainExpiryUnix = 1800000000 + static_cast<std::int64_t>(i);
  }
  r.verdict.ok = o.statusCode == 200;
  if (!r.verdict.ok) r.verdict.reason = Reason::HttpStatus;
  if (i % 6 == 0) r.verdict.version = "1." + std::to_string(i % 10) + ".0";
  r.finishedAt = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000 + i));
  return r;
}

inline void fillSynthetic(ProbeMetrics& metrics, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const ProbeResult r = syntheticResult(i);
    metrics.record(r);
    if (i % 9 == 0)
      metrics.noteChange(r.target->target.id, r.address,
                         {"version", "1.0", "1.1", 1700000000000 + static_cast<std::int64_t>(i)});
  }
}

}  // namespace envprobe::testing
