#pragma once
// The state behind one target's probe series (one per address label): the last probe's facts
// and the failure counters, as plain values, and the series' identity.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "checks/observation.hpp"
#include "checks/verdict.hpp"

namespace envprobe {

// A value kept out of line and shared between the versions of a series: most series never
// need it (no TLS, no change seen yet), and copying a series copies a pointer. An empty one
// reads as a default T.
template <typename T>
class SharedValue {
 public:
  const T& operator*() const { return value_ ? *value_ : empty(); }
  const T* operator->() const { return &**this; }
  explicit operator bool() const { return value_ != nullptr; }
  void set(T value) { value_ = std::make_shared<const T>(std::move(value)); }
  void reset() { value_.reset(); }
  // A private copy to change (other versions keep theirs).
  T& edit() {
    auto copy = std::make_shared<T>(**this);
    T& out = *copy;
    value_ = std::move(copy);
    return out;
  }

 private:
  static const T& empty() {
    static const T value{};
    return value;
  }
  std::shared_ptr<const T> value_;
};

// The last change of a tracked fact of a series (change tracking).
struct SeriesLastChange {
  std::string what, oldValue, newValue;
  std::int64_t unixMs = 0;                      // 0: none known
  std::map<std::string, std::int64_t> byWhat;  // what -> unix seconds
};

// The last probe's plain facts and the counters: the same in the value (SeriesFacts) and in the
// stored form (StoredFacts, stored_facts.hpp), so a fact added here is in both.
struct SeriesNumbers {
  double durationSeconds = 0;
  double dnsSeconds = 0;
  double httpVersion = 0;
  PhaseTimes phases;
  std::int64_t contentLength = 0;
  std::int64_t uncompressedBodyLength = 0;
  std::int64_t certExpiry = 0;
  std::int64_t lastProbeUnixMs = 0;
  // While down: since when (unix seconds; across restarts when history is kept); 0 while up.
  std::int64_t downSinceUnix = 0;
  std::uint64_t probes = 0;
  Reason reason = Reason::None;
  int statusCode = 0;
  int redirects = 0;
  int ipProtocol = 0;        // 4 or 6 of the address probed; 0 when none was
  std::uint32_t ipHash = 0;  // fnv32a of its bytes
  bool success = false;
  bool ssl = false;
  bool certPresent = false;
  bool failedDueToRegex = false;
  bool versionTracked = false;  // the check says where its version is (`version:`)
};

// What changes: the last probe's facts and the counters, as plain values.
struct SeriesFacts : SeriesNumbers {
  std::int64_t lastProbeUnix = 0;  // lastProbeUnixMs / 1000
  std::string detail;
  std::string serverHeader;
  std::string resolvedAddress;
  std::string version;  // the deployed version the last response named ("" unknown)
  std::vector<std::pair<Reason, std::uint64_t>> failures;  // by reason, ascending
  SharedValue<TlsFacts> tls;  // the final response's TLS connection; empty without one
  SharedValue<SeriesLastChange> lastChange;  // empty: none known
};

// Who: fixed for the life of a series.
struct SeriesIdentityFields {
  std::string targetId;
  std::string env, service, check, hostname, visibility, address, url;
  std::string instance;  // the `instance` label: unique per series within the agent
};

// One series as a value: its identity and its facts.
struct SeriesState : SeriesIdentityFields, SeriesFacts {};

// One change of a tracked fact of one series, as change tracking records it.
struct SeriesChange {
  std::string what, oldValue, newValue;
  std::int64_t unixMs = 0;
};

}  // namespace envprobe
