#pragma once
// The state behind one target's probe series (one per address label): the last probe's facts
// and the failure counters, as plain values, and the series' identity.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "checks/observation.hpp"
#include "checks/verdict.hpp"

namespace envprobe {

// What changes: the last probe's facts and the counters.
struct SeriesFacts {
  bool success = false;
  Reason reason = Reason::None;
  std::string detail;
  double durationSeconds = 0;
  int statusCode = 0;
  PhaseTimes phases;
  double dnsSeconds = 0;
  std::int64_t contentLength = 0;
  std::int64_t uncompressedBodyLength = 0;
  double httpVersion = 0;
  bool ssl = false;
  int redirects = 0;
  bool certPresent = false;
  std::int64_t certExpiry = 0;
  TlsFacts tls;  // the final response's TLS connection; tls.present false without one
  int ipProtocol = 0;          // 4 or 6 of the address probed; 0 when none was
  std::uint32_t ipHash = 0;    // fnv32a of its bytes
  bool failedDueToRegex = false;
  std::int64_t lastProbeUnix = 0;
  // While down: since when (unix seconds; across restarts when history is kept); 0 while up.
  std::int64_t downSinceUnix = 0;
  std::uint64_t probes = 0;
  std::map<Reason, std::uint64_t> failures;
  std::string serverHeader;
  std::string resolvedAddress;
  std::string version;  // the deployed version the last response named ("" unknown)
  bool versionTracked = false;  // the check says where its version is (`version:`)
  std::int64_t lastProbeUnixMs = 0;
  // The last change of a tracked fact (change tracking); lastChangeUnixMs 0: none known.
  std::string lastChangeWhat, lastChangeOld, lastChangeNew;
  std::int64_t lastChangeUnixMs = 0;
  std::map<std::string, std::int64_t> lastChangeByWhat;  // what -> unix seconds
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
