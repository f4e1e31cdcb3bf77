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


// A series with its identity (target, labels, URL, instance) and no result yet.
SeriesState seriesIdentity(const Target& target, const std::string& address);

class ProbeMetrics : public prometheus::Collectable {
 public:
  void record(const ProbeResult& result);
  // Before probing starts: when each series (by seriesKey) went down, unix seconds, as the
  // history kept it across a restart. A seeded series whose first result is also down keeps
  // that time as its down-since instead of the first result's; each seed is used once.
  void seedDownSince(std::map<std::string, std::int64_t> sinceUnixByKey);
  // A tracked fact of a series changed (on the loop, after record()).
  void noteChange(const std::string& key, const SeriesChange& change);
  // Before probing starts: each series' known changes (from the history), oldest first; they
  // apply when the series' first result arrives.
  void seedChanges(std::map<std::string, std::vector<SeriesChange>> byKey);
  // Drops one series: the target's series for `address` ("" when it has no address label).
  void removeSeries(const std::string& targetId, const std::string& address);
  std::vector<SeriesState> snapshot() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SeriesState> series_;  // by seriesKey(targetId, address)
  std::map<std::string, std::int64_t> seededDownSince_;
  std::map<std::string, std::vector<SeriesChange>> seededChanges_;
};

}  // namespace envprobe
