#pragma once
// The per-target probe series, in blackbox_exporter's names. Kept as compact values under one
// lock (100,000 targets would cost ~1 GB as individual prometheus-cpp series) and written as text
// only when scraped. The same state feeds the status page.
//
// Each series is held by a shared pointer, copied on write: a scrape (or a snapshot) copies the
// pointers under the lock, then formats without it, so the event loop that records results
// waits microseconds per scrape, not the scrape's length. A series a scrape still reads is
// copied when its next result arrives; otherwise it is updated in place.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "checks/probe_result.hpp"
#include "probe/config/config_model.hpp"
#include "probe/metrics/series_state.hpp"
#include "probe/metrics/text_exposition.hpp"

namespace envprobe {

// One series as exposed: its state and its label set, formatted once (labels never change).
struct ExposedSeries {
  SeriesState state;
  std::string labels;  // env="…",service="…",…,instance="…", escaped
};
using SeriesSnapshot = std::vector<std::shared_ptr<const ExposedSeries>>;

class ProbeMetrics : public prometheus::Collectable, public TextCollectable {
 public:
  explicit ProbeMetrics(MetricsSettings settings = {}) : settings_(settings) {}

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
  // Copies of every series, by seriesKey (the copies are made after the lock is released).
  std::vector<SeriesState> snapshot() const;
  // Every series, by seriesKey: pointer copies under the lock, nothing else.
  SeriesSnapshot exposedSnapshot() const;
  const MetricsSettings& settings() const { return settings_; }

  // The families as prometheus-cpp objects (the reference for writeText; costly at scale).
  std::vector<prometheus::MetricFamily> Collect() const override;
  // The families straight to text, from a snapshot.
  void writeText(TextWriter& out) const override;

 private:
  // The series at `slot`, writable: copied first when a snapshot still holds it.
  static ExposedSeries& writable(std::shared_ptr<ExposedSeries>& slot);

  const MetricsSettings settings_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ExposedSeries>> series_;  // by seriesKey(targetId, address)
  std::map<std::string, std::int64_t> seededDownSince_;
  std::map<std::string, std::vector<SeriesChange>> seededChanges_;
};

// The label set of a series, formatted for the text format.
std::string formatSeriesLabels(const SeriesState& s);

}  // namespace envprobe
