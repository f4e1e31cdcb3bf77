#pragma once
// The per-target probe series, in blackbox_exporter's names. Kept as compact values under one
// lock (100,000 targets would cost ~1 GB as individual prometheus-cpp series) and written as text
// only when scraped. The same state feeds the status page.
//
// A scrape copies the series' pointers under the lock (a copy of one contiguous array: about
// a hundred microseconds at 100,000 series; in the order the last sort found while no series
// came or went since), then sorts (when they did) and formats without it, so the event
// loop that records results never waits for a scrape. Read-copy-update: while a snapshot is
// alive, a result for a series it holds goes to a fresh copy and the old version is freed once
// no snapshot that may hold it remains; without a snapshot, results update in place.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checks/probe_result.hpp"
#include "probe/config/config_model.hpp"
#include "probe/metrics/series_state.hpp"
#include "probe/metrics/stored_facts.hpp"
#include "probe/metrics/text_exposition.hpp"

namespace envprobe {

// One series as exposed: who it is (its target, held and not copied, and its address) and one
// version of its facts. Its label set is formatted when it is scraped.
struct ExposedSeries {
  std::shared_ptr<const ProbeTarget> target;
  InternedString address;  // shared with every series probing the same address
  StoredFacts state;
  std::uint64_t born = 0;  // the snapshot epoch this version was made in

  const std::string& targetId() const { return target->target.id; }
  SeriesState value() const;  // identity and facts as one value
};

// The order of seriesKey(id, address), without building keys (an id holds no control
// characters, so comparing ids, then addresses, is comparing keys).
bool seriesKeyLess(const ExposedSeries& a, const ExposedSeries& b);

// A series with its identity (target, labels, URL, instance) and no result yet.
SeriesState seriesIdentity(const Target& target, const std::string& address);

class ProbeMetrics;

// Every series at one moment, by key; valid while the snapshot lives (and never longer than its
// ProbeMetrics). The series it holds do not change.
class SeriesSnapshot {
 public:
  SeriesSnapshot() = default;
  SeriesSnapshot(SeriesSnapshot&& other) noexcept { *this = std::move(other); }
  SeriesSnapshot& operator=(SeriesSnapshot&& other) noexcept;
  ~SeriesSnapshot() { release(); }

  std::size_t size() const { return series_.size(); }
  bool empty() const { return series_.empty(); }
  const ExposedSeries* operator[](std::size_t i) const { return series_[i]; }
  auto begin() const { return series_.begin(); }
  auto end() const { return series_.end(); }
  void release();  // lets go early

 private:
  friend class ProbeMetrics;
  const ProbeMetrics* owner_ = nullptr;
  std::uint64_t epoch_ = 0;
  std::vector<const ExposedSeries*> series_;
};

class ProbeMetrics : public prometheus::Collectable, public TextCollectable {
 public:
  explicit ProbeMetrics(MetricsSettings settings = {}) : settings_(settings) {}

  void record(const ProbeResult& result);
  // Before probing starts: when each series (by seriesKey) went down, unix seconds, as the
  // history kept it across a restart. A seeded series whose first result is also down keeps
  // that time as its down-since instead of the first result's; each seed is used once.
  void seedDownSince(std::map<std::string, std::int64_t> sinceUnixByKey);
  // A tracked fact of a series changed (on the loop, after record()).
  void noteChange(const std::string& targetId, const std::string& address,
                  const SeriesChange& change);
  // Before probing starts: each series' known changes (from the history), oldest first; they
  // apply when the series' first result arrives.
  void seedChanges(std::map<std::string, std::vector<SeriesChange>> byKey);
  // Drops one series: the target's series for `address` ("" when it has no address label).
  void removeSeries(const std::string& targetId, const std::string& address);
  // Copies of every series, by seriesKey (the copies are made after the lock is released).
  std::vector<SeriesState> snapshot() const;
  // Every series, by seriesKey: pointer copies under the lock, sorted after it.
  SeriesSnapshot exposedSnapshot() const;
  const MetricsSettings& settings() const { return settings_; }
  // How long the last exposedSnapshot() held the lock, nanoseconds (for benchmarks).
  std::int64_t lastSnapshotLockNanos() const { return lastLockNanos_.load(); }

  // The families as prometheus-cpp objects (the reference for writeText; costly at scale).
  std::vector<prometheus::MetricFamily> Collect() const override;
  // The families straight to text, from a snapshot.
  void writeText(TextWriter& out) const override;

 private:
  friend class SeriesSnapshot;
  // The series in `slot`, writable: copied first when a live snapshot may hold it (lock held).
  ExposedSeries& writable(std::size_t slot);
  // Gives back a snapshot's epoch; frees the old versions no live snapshot can hold.
  void release(std::uint64_t epoch) const;

  const MetricsSettings settings_;
  mutable std::mutex mutex_;
  static constexpr std::size_t kNoSlot = static_cast<std::size_t>(-1);
  // The slot of a series, or kNoSlot (lock held).
  std::size_t find(const std::string& targetId, const std::string& address) const;

  std::vector<std::unique_ptr<ExposedSeries>> slots_;      // unordered; contiguous to copy
  // seriesHash -> slot; a hash shared by two series has two entries, told apart by find().
  std::unordered_multimap<std::uint64_t, std::size_t> index_;
  std::uint64_t layout_ = 0;  // counts the times a series came, went or moved to another slot
  // The slots in series-key order, as worked out by a snapshot when layout_ was orderLayout_.
  mutable std::vector<std::uint32_t> order_;
  mutable std::uint64_t orderLayout_ = UINT64_MAX;
  mutable std::uint64_t epoch_ = 0;
  mutable std::atomic<std::int64_t> lastLockNanos_{0};                        // the last snapshot's epoch
  mutable std::map<std::uint64_t, int> liveSnapshots_;     // epoch -> how many
  // Old versions a live snapshot may still read, with the epoch they were replaced in.
  mutable std::vector<std::pair<std::uint64_t, std::unique_ptr<ExposedSeries>>> retired_;
  std::map<std::string, std::int64_t> seededDownSince_;
  std::map<std::string, std::vector<SeriesChange>> seededChanges_;
};

// Appends the label set of a target's series for `address`, formatted for the text format.
void appendSeriesLabels(std::string& out, const Target& target, const std::string& address);

}  // namespace envprobe
