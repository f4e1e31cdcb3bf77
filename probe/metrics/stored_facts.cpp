#include "probe/metrics/stored_facts.hpp"

namespace envprobe {

void StoredFacts::expandInto(SeriesFacts& out) const {
  static_cast<SeriesNumbers&>(out) = *this;
  out.lastProbeUnix = lastProbeUnix();
  out.detail = detail.str();
  out.serverHeader = serverHeader.str();
  out.resolvedAddress = resolvedAddress.str();
  out.version = version.str();
  out.failures = failures;
  out.tls = tls;
  out.lastChange = lastChange;
}

}  // namespace envprobe
