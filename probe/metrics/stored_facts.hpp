#pragma once
// How ProbeMetrics stores a series' facts: SeriesFacts made compact. The texts a result carries
// (the failure detail, the Server header, the address probed, the deployed version) are
// interned, 8 bytes a series and one copy for all the series that share them (100,000 series
// behind one web server share one "nginx/1.22.1"), and the seconds of the last probe are its
// milliseconds / 1000. expandInto() gives the plain value back.
#include <cstdint>
#include <utility>
#include <vector>

#include "probe/base/interned_string.hpp"
#include "probe/metrics/series_state.hpp"

namespace envprobe {

struct StoredFacts : SeriesNumbers {
  InternedString detail;
  InternedString serverHeader;
  InternedString resolvedAddress;
  InternedString version;
  std::vector<std::pair<Reason, std::uint64_t>> failures;  // by reason, ascending
  SharedValue<TlsFacts> tls;
  SharedValue<SeriesLastChange> lastChange;

  std::int64_t lastProbeUnix() const { return lastProbeUnixMs / 1000; }
  // The plain value, into `out` (its identity fields untouched).
  void expandInto(SeriesFacts& out) const;
};

}  // namespace envprobe
