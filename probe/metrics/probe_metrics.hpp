#pragma once
// The per-target probe series, in blackbox_exporter's names. Kept as compact values under one
// lock (100,000 targets would cost ~1 GB as individual prometheus-cpp series) and turned into
// metric families only when scraped. The same state feeds the status page.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "checks/probe_result.hpp"

namespace envprobe {

struct SeriesState {
  std::string targetId;
  std::string env, service, check, hostname, visibility, address, url;
  bool success = false;
  Reason reason = Reason::None;
  std::string detail;
  double durationSeconds = 0;
  int statusCode = 0;
  PhaseTimes phases;
  double dnsSeconds = 0;
  std::int64_t contentLength = 0;
  double httpVersion = 0;
  bool ssl = false;
  int redirects = 0;
  bool certPresent = false;
  std::int64_t certExpiry = 0;
  bool failedDueToRegex = false;
  std::int64_t lastProbeUnix = 0;
  std::uint64_t probes = 0;
  std::map<Reason, std::uint64_t> failures;
  std::string serverHeader;
  std::string resolvedAddress;
};

class ProbeMetrics : public prometheus::Collectable {
 public:
  void record(const ProbeResult& result);
  // Drops every series of the target (all its addresses).
  void removeTarget(const std::string& targetId);
  std::vector<SeriesState> snapshot() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SeriesState> series_;  // key: targetId + '\n' + address
};

}  // namespace envprobe
