#include "probe/metrics/probe_metrics.hpp"

#include <algorithm>
#include <atomic>

#include "probe/catalog/instance_label.hpp"
#include "probe/metrics/ip_facts.hpp"

namespace envprobe {

namespace {

void applyChange(SeriesState& s, const SeriesChange& change) {
  if (change.unixMs >= s.lastChangeUnixMs) {
    s.lastChangeWhat = change.what;
    s.lastChangeOld = change.oldValue;
    s.lastChangeNew = change.newValue;
    s.lastChangeUnixMs = change.unixMs;
  }
  auto& at = s.lastChangeByWhat[change.what];
  at = std::max(at, change.unixMs / 1000);
}

}  // namespace

void ProbeMetrics::record(const ProbeResult& result) {
  const Target& t = result.target->target;
  const Observation& obs = result.observation;
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = seriesKey(t.id, result.address);
  ExposedSeries& exposed = writable(series_[key]);
  SeriesState& s = exposed.state;
  const bool first = s.targetId.empty();
  if (first) {
    s.targetId = t.id;
    s.env = t.env;
    s.service = t.service;
    s.check = t.check;
    s.hostname = t.hostname;
    s.visibility = toString(t.visibility);
    s.address = result.address;
    s.url = redactedUrl(t.url);
    s.instance = seriesInstance(t, result.address);
    exposed.labels = formatSeriesLabels(s);
  }
  const std::int64_t finished = std::chrono::duration_cast<std::chrono::seconds>(
                                   result.finishedAt.time_since_epoch())
                                   .count();
  if (result.verdict.ok) {
    s.downSinceUnix = 0;
  } else if (first || s.success || s.downSinceUnix == 0) {
    s.downSinceUnix = finished;
  }
  if (first && !seededDownSince_.empty()) {
    if (auto seed = seededDownSince_.find(key); seed != seededDownSince_.end()) {
      if (!result.verdict.ok && seed->second > 0) s.downSinceUnix = seed->second;
      seededDownSince_.erase(seed);
    }
  }
  s.success = result.verdict.ok;
  s.reason = result.verdict.reason;
  s.detail = result.verdict.detail;
  s.durationSeconds = obs.durationSeconds;
  s.statusCode = obs.statusCode;
  s.phases = obs.phases;
  s.dnsSeconds = obs.dnsSeconds;
  s.contentLength = obs.contentLength;
  s.uncompressedBodyLength = obs.uncompressedBodyLength;
  s.httpVersion = obs.httpVersion;
  s.ssl = obs.ssl;
  s.redirects = obs.redirects;
  s.certPresent = obs.cert.present;
  if (obs.cert.present) s.certExpiry = obs.cert.earliestExpiryUnix;
  s.tls = obs.tls;
  if (first || obs.resolvedAddress != s.resolvedAddress) {  // parsed once per address seen
    const auto ip = ipFacts(obs.resolvedAddress);
    s.ipProtocol = ip ? ip->protocol : 0;
    s.ipHash = ip ? ip->hash : 0;
  }
  if (first && !seededChanges_.empty()) {
    if (auto seed = seededChanges_.find(key); seed != seededChanges_.end()) {
      for (const auto& change : seed->second) applyChange(s, change);
      seededChanges_.erase(seed);
    }
  }
  s.failedDueToRegex = result.verdict.failedDueToRegex;
  s.lastProbeUnix = finished;
  s.lastProbeUnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                          result.finishedAt.time_since_epoch())
                          .count();
  s.version = result.verdict.version;
  s.versionTracked = t.http && t.http->version.kind != ValueSource::Kind::None;
  s.serverHeader = obs.serverHeader;
  s.resolvedAddress = obs.resolvedAddress;
  ++s.probes;
  if (!result.verdict.ok) ++s.failures[result.verdict.reason];
}

void ProbeMetrics::noteChange(const std::string& key, const SeriesChange& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = series_.find(key); it != series_.end()) applyChange(writable(it->second).state, change);
}

void ProbeMetrics::seedChanges(std::map<std::string, std::vector<SeriesChange>> byKey) {
  std::lock_guard<std::mutex> lock(mutex_);
  seededChanges_ = std::move(byKey);
}

void ProbeMetrics::seedDownSince(std::map<std::string, std::int64_t> sinceUnixByKey) {
  std::lock_guard<std::mutex> lock(mutex_);
  seededDownSince_ = std::move(sinceUnixByKey);
}

void ProbeMetrics::removeSeries(const std::string& targetId, const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  series_.erase(seriesKey(targetId, address));
}

ExposedSeries& ProbeMetrics::writable(std::shared_ptr<ExposedSeries>& slot) {
  if (!slot) {
    slot = std::make_shared<ExposedSeries>();
  } else if (slot.use_count() > 1) {
    slot = std::make_shared<ExposedSeries>(*slot);  // a snapshot still reads the old one
  } else {
    // The last reader let go (its release decrement); its reads happen before our writes.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *slot;
}

SeriesSnapshot ProbeMetrics::exposedSnapshot() const {
  SeriesSnapshot out;
  std::lock_guard<std::mutex> lock(mutex_);
  out.reserve(series_.size());
  for (const auto& [key, s] : series_) out.emplace_back(s);
  return out;
}

std::vector<SeriesState> ProbeMetrics::snapshot() const {
  const SeriesSnapshot series = exposedSnapshot();
  std::vector<SeriesState> out;
  out.reserve(series.size());
  for (const auto& s : series) out.push_back(s->state);
  return out;
}

std::string formatSeriesLabels(const SeriesState& s) {
  std::string out;
  out.reserve(160);
  appendLabel(out, "env", s.env);
  out.push_back(',');
  appendLabel(out, "service", s.service);
  out.push_back(',');
  appendLabel(out, "check", s.check);
  out.push_back(',');
  appendLabel(out, "hostname", s.hostname);
  out.push_back(',');
  appendLabel(out, "visibility", s.visibility);
  if (!s.address.empty()) {
    out.push_back(',');
    appendLabel(out, "address", s.address);
  }
  out.push_back(',');
  appendLabel(out, "instance", s.instance);
  return out;
}

}  // namespace envprobe
