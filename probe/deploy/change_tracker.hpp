#pragma once
// Change tracking: the facts that identify what a target serves — its Server header, its
// certificate (fingerprint, issuer, not-after), the address it resolved to, its deployed version
// and optionally a hash of its body (`track:` of the check) — compared with what it served
// before, across restarts. A change becomes a record in the history (old -> new, time),
// envprobe_target_last_change_timestamp_seconds{what}, an info log line and the status page's
// last change. The first value seen of a fact is its baseline, not a change.
//
// A sink on the loop: per result a handful of string compares; the disk is the history's
// writer thread. Baselines outlive a series' removal (a reload that changes a target removes
// and adds its series again); like the history's facts they last until the agent restarts.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "probe/engine/result_sink.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/base/interned_string.hpp"

namespace envprobe {

// The tracked facts of one result, as (what, value) pairs: only facts the check tracks and the
// response carried (no response: none; a check without `version:`: no version).
std::vector<std::pair<Fact, std::string>> trackedFactValues(const ProbeResult& result);
// The same with each fact by its name ("server", "certificate", …).
std::vector<std::pair<std::string, std::string>> trackedFacts(const ProbeResult& result);

struct RecordedChange {
  std::string series;  // seriesKey
  const Target* target = nullptr;
  std::string address, what, oldValue, newValue;
  std::int64_t unixMs = 0;
};

class ChangeTracker : public ResultSink {
 public:
  static constexpr std::size_t kMaxValueBytes = 512;

  struct Store {
    // A fact's new value (first seen or changed), to survive restarts.
    std::function<void(const std::string& series, const std::string& what,
                       const std::string& value, std::int64_t unixMs)>
        fact;
    std::function<void(const RecordedChange&)> change;
  };

  // known: each series' facts as the history last stored them (series -> what -> value).
  ChangeTracker(ProbeMetrics& metrics, Store store,
                std::map<std::string, std::map<std::string, std::string>> known);

  void onResult(const ProbeResult& result) override;
  void onSeriesRemoved(const Target& target, const std::string& address) override;

 private:
  ProbeMetrics& metrics_;
  Store store_;
  // By seriesHash (no copy of the key per series). Two series that shared a hash (about
  // n^2 / 2^65: 3e-8 at a million series) would share baselines, and each would report the
  // other's values as changes.
  // Each series' known facts, encoded as one interned text (change_tracker.cpp): one copy for
  // every series that knows the same facts.
  std::unordered_map<std::uint64_t, InternedString> known_;
  std::vector<std::pair<Fact, std::string_view>> scratch_;  // one result's facts, reused
};

}  // namespace envprobe
