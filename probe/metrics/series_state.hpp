#pragma once
// The state behind one target's probe series (one per address label): the last probe's facts
// and the failure counters, as plain values.
#include <cstdint>
#include <map>
#include <string>

#include "checks/observation.hpp"
#include "checks/verdict.hpp"

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

}  // namespace envprobe
