#include "probe/metrics/probe_metrics.hpp"

#include <algorithm>

#include "probe/catalog/instance_label.hpp"
#include "probe/metrics/ip_facts.hpp"

namespace envprobe {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<ClientMetric::Label> labelsOf(const SeriesState& s) {
  std::vector<ClientMetric::Label> labels = {{"env", s.env},         {"service", s.service},
                                             {"check", s.check},     {"hostname", s.hostname},
                                             {"visibility", s.visibility}};
  if (!s.address.empty()) labels.push_back({"address", s.address});
  labels.push_back({"instance", s.instance});
  return labels;
}

class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }
  void add(std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric metric;
    metric.label = std::move(labels);
    if (family_.type == MetricType::Counter) metric.counter.value = value;
    else metric.gauge.value = value;
    family_.metric.push_back(std::move(metric));
  }
  MetricFamily take() { return std::move(family_); }

 private:
  MetricFamily family_;
};

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

SeriesState seriesIdentity(const Target& t, const std::string& address) {
  SeriesState s;
  s.targetId = t.id;
  s.env = t.env;
  s.service = t.service;
  s.check = t.check;
  s.hostname = t.hostname;
  s.visibility = toString(t.visibility);
  s.address = address;
  s.url = redactedUrl(t.url);
  s.instance = seriesInstance(t, address);
  return s;
}

void ProbeMetrics::record(const ProbeResult& result) {
  const Target& t = result.target->target;
  const Observation& obs = result.observation;
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = seriesKey(t.id, result.address);
  SeriesState& s = series_[key];
  const bool first = s.targetId.empty();
  if (first) s = seriesIdentity(t, result.address);
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
  if (auto it = series_.find(key); it != series_.end()) applyChange(it->second, change);
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
  const auto it = series_.find(seriesKey(targetId, address));
  if (it == series_.end()) return;
  // A reload that changes a target removes its series and adds them again: their last change
  // comes back with them (as it does from the history after a restart).
  if (it->second.lastChangeUnixMs > 0) {
    auto& seed = seededChanges_[it->first];
    for (const auto& [what, at] : it->second.lastChangeByWhat)
      if (what != it->second.lastChangeWhat) seed.push_back({what, "", "", at * 1000});
    seed.push_back({it->second.lastChangeWhat, it->second.lastChangeOld,
                    it->second.lastChangeNew, it->second.lastChangeUnixMs});
  }
  series_.erase(it);
}

std::vector<SeriesState> ProbeMetrics::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<SeriesState> out;
  out.reserve(series_.size());
  for (const auto& [key, s] : series_) out.push_back(s);
  return out;
}

std::vector<MetricFamily> ProbeMetrics::Collect() const {
  FamilyBuilder success("probe_success", "Whether the probe succeeded", MetricType::Gauge);
  FamilyBuilder duration("probe_duration_seconds", "How long the probe took, DNS included",
                         MetricType::Gauge);
  FamilyBuilder status("probe_http_status_code", "HTTP status code of the last response",
                       MetricType::Gauge);
  FamilyBuilder phases("probe_http_duration_seconds", "Duration of the HTTP request by phase",
                       MetricType::Gauge);
  FamilyBuilder dns("probe_dns_lookup_time_seconds", "How long the DNS lookup took",
                    MetricType::Gauge);
  FamilyBuilder length("probe_http_content_length", "Length of the HTTP content response",
                       MetricType::Gauge);
  FamilyBuilder version("probe_http_version", "HTTP version of the response", MetricType::Gauge);
  FamilyBuilder ssl("probe_http_ssl", "Whether TLS was used for the final request",
                    MetricType::Gauge);
  FamilyBuilder redirects("probe_http_redirects", "Number of redirects followed",
                          MetricType::Gauge);
  FamilyBuilder expiry("probe_ssl_earliest_cert_expiry",
                       "Earliest notAfter in the peer's chain, unix seconds (also when the "
                       "certificate did not verify)",
                       MetricType::Gauge);
  FamilyBuilder bodyLength("probe_http_uncompressed_body_length",
                           "Length of the response body after content decoding",
                           MetricType::Gauge);
  FamilyBuilder ipProtocol("probe_ip_protocol", "IP protocol of the address probed (4 or 6)",
                           MetricType::Gauge);
  FamilyBuilder ipHash("probe_ip_addr_hash",
                       "FNV-1a hash of the address probed, to see when it changes",
                       MetricType::Gauge);
  FamilyBuilder tlsVersion("probe_tls_version_info", "TLS version of the final response",
                           MetricType::Gauge);
  FamilyBuilder chainExpiry("probe_ssl_last_chain_expiry_timestamp_seconds",
                            "Earliest notAfter in the verified chain, unix seconds (absent when "
                            "the chain was not verified)",
                            MetricType::Gauge);
  FamilyBuilder chainInfo("probe_ssl_last_chain_info",
                          "The leaf certificate of the final response", MetricType::Gauge);
  FamilyBuilder regex("probe_failed_due_to_regex", "Whether the probe failed on a regex",
                      MetricType::Gauge);
  FamilyBuilder failures("probe_failures_total", "Failed probes by reason", MetricType::Counter);
  FamilyBuilder failing("envprobe_probe_failure_reason",
                        "1 for the reason the target is failing now; absent while it passes",
                        MetricType::Gauge);
  FamilyBuilder last("envprobe_probe_last_run_timestamp_seconds", "When the last probe finished",
                     MetricType::Gauge);
  FamilyBuilder deployed("envprobe_target_version_info",
                         "1 with the version the last response named (checks with version:)",
                         MetricType::Gauge);
  FamilyBuilder changed("envprobe_target_last_change_timestamp_seconds",
                        "When a tracked fact (what) of the target last changed, unix seconds",
                        MetricType::Gauge);

  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, s] : series_) {
    const auto labels = labelsOf(s);
    success.add(labels, s.success ? 1 : 0);
    duration.add(labels, s.durationSeconds);
    status.add(labels, s.statusCode);
    const std::pair<const char*, double> phaseValues[] = {
        {"resolve", s.phases.resolve}, {"connect", s.phases.connect}, {"tls", s.phases.tls},
        {"processing", s.phases.processing}, {"transfer", s.phases.transfer}};
    for (const auto& [phase, value] : phaseValues) {
      auto withPhase = labels;
      withPhase.push_back({"phase", phase});
      phases.add(std::move(withPhase), value);
    }
    dns.add(labels, s.dnsSeconds);
    length.add(labels, static_cast<double>(s.contentLength));
    version.add(labels, s.httpVersion);
    ssl.add(labels, s.ssl ? 1 : 0);
    redirects.add(labels, s.redirects);
    if (s.certPresent) expiry.add(labels, static_cast<double>(s.certExpiry));
    bodyLength.add(labels, static_cast<double>(s.uncompressedBodyLength));
    ipProtocol.add(labels, s.ipProtocol);
    ipHash.add(labels, static_cast<double>(s.ipHash));
    if (s.tls.present) {
      auto withVersion = labels;
      withVersion.push_back({"version", s.tls.version});
      tlsVersion.add(std::move(withVersion), 1);
      if (s.tls.chainVerified)
        chainExpiry.add(labels, static_cast<double>(s.tls.lastChainExpiryUnix));
      auto withLeaf = labels;
      withLeaf.push_back({"fingerprint_sha256", s.tls.fingerprintSha256});
      withLeaf.push_back({"subject", s.tls.subject});
      withLeaf.push_back({"issuer", s.tls.issuer});
      withLeaf.push_back({"subjectalternative", s.tls.subjectAlternative});
      withLeaf.push_back({"serialnumber", s.tls.serialNumber});
      chainInfo.add(std::move(withLeaf), 1);
    }
    regex.add(labels, s.failedDueToRegex ? 1 : 0);
    for (const auto& [reason, count] : s.failures) {
      auto withReason = labels;
      withReason.push_back({"reason", toString(reason)});
      failures.add(std::move(withReason), static_cast<double>(count));
    }
    if (!s.success) {
      auto withReason = labels;
      withReason.push_back({"reason", toString(s.reason)});
      failing.add(std::move(withReason), 1);
    }
    last.add(labels, static_cast<double>(s.lastProbeUnix));
    if (!s.version.empty()) {
      auto withVersion = labels;
      withVersion.push_back({"version", s.version});
      deployed.add(std::move(withVersion), 1);
    }
    for (const auto& [what, at] : s.lastChangeByWhat) {
      auto withWhat = labels;
      withWhat.push_back({"what", what});
      changed.add(std::move(withWhat), static_cast<double>(at));
    }
  }
  std::vector<MetricFamily> out;
  for (auto* b : {&success, &duration, &status, &phases, &dns, &length, &version, &ssl,
                  &redirects, &expiry, &bodyLength, &ipProtocol, &ipHash, &tlsVersion,
                  &chainExpiry, &chainInfo, &regex, &failures, &failing, &last, &deployed, &changed})
    out.push_back(b->take());
  return out;
}

}  // namespace envprobe
