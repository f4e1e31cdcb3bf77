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
#include "probe/metrics/series_state.hpp"

namespace envprobe {


class ProbeMetrics : public prometheus::Collectable {
 public:
  void record(const ProbeResult& result);
  // Drops one series: the target's series for `address` ("" when it has no address label).
  void removeSeries(const std::string& targetId, const std::string& address);
  std::vector<SeriesState> snapshot() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SeriesState> series_;  // by seriesKey(targetId, address)
};

}  // namespace envprobe
