// ProbeMetrics::Collect(): the probe series as prometheus-cpp families. The text writer
// (probe_series_text.cpp) produces the same exposition without building these objects; this is
// its reference.
#include "probe/metrics/probe_families.hpp"
#include "probe/metrics/probe_metrics.hpp"

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
  explicit FamilyBuilder(const probe_family::Info& info) {
    family_.name = info.name;
    family_.help = info.help;
    family_.type = info.counter ? MetricType::Counter : MetricType::Gauge;
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

}  // namespace

std::vector<MetricFamily> ProbeMetrics::Collect() const {
  namespace f = probe_family;
  FamilyBuilder success(f::kSuccess), duration(f::kDuration), status(f::kStatus),
      phases(f::kPhases), dns(f::kDns), length(f::kLength), version(f::kVersion), ssl(f::kSsl),
      redirects(f::kRedirects), expiry(f::kExpiry), bodyLength(f::kBodyLength),
      ipProtocol(f::kIpProtocol), ipHash(f::kIpHash), tlsVersion(f::kTlsVersion),
      chainExpiry(f::kChainExpiry), chainInfo(f::kChainInfo), regex(f::kRegex),
      failures(f::kFailures), failing(f::kFailing), last(f::kLastRun), deployed(f::kDeployed),
      changed(f::kChanged);

  for (const auto& exposed : exposedSnapshot()) {
    const SeriesState s = exposed->value();
    const auto labels = labelsOf(s);
    success.add(labels, s.success ? 1 : 0);
    duration.add(labels, s.durationSeconds);
    status.add(labels, s.statusCode);
    if (settings_.phases) {
      const double phaseValues[] = {s.phases.resolve, s.phases.connect, s.phases.tls,
                                    s.phases.processing, s.phases.transfer};
      for (std::size_t i = 0; i < std::size(phaseValues); ++i) {
        auto withPhase = labels;
        withPhase.push_back({"phase", f::kPhaseNames[i]});
        phases.add(std::move(withPhase), phaseValues[i]);
      }
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
    if (s.tls->present) {
      auto withVersion = labels;
      withVersion.push_back({"version", s.tls->version});
      tlsVersion.add(std::move(withVersion), 1);
      if (s.tls->chainVerified)
        chainExpiry.add(labels, static_cast<double>(s.tls->lastChainExpiryUnix));
      auto withLeaf = labels;
      withLeaf.push_back({"fingerprint_sha256", s.tls->fingerprintSha256});
      withLeaf.push_back({"subject", s.tls->subject});
      withLeaf.push_back({"issuer", s.tls->issuer});
      withLeaf.push_back({"subjectalternative", s.tls->subjectAlternative});
      withLeaf.push_back({"serialnumber", s.tls->serialNumber});
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
    for (const auto& [what, at] : s.lastChange->byWhat) {
      auto withWhat = labels;
      withWhat.push_back({"what", what});
      changed.add(std::move(withWhat), static_cast<double>(at));
    }
  }
  std::vector<MetricFamily> out;
  for (auto* b : {&success, &duration, &status, &phases, &dns, &length, &version, &ssl,
                  &redirects, &expiry, &bodyLength, &ipProtocol, &ipHash, &tlsVersion,
                  &chainExpiry, &chainInfo, &regex, &failures, &failing, &last, &deployed,
                  &changed}) {
    if (b == &phases && !settings_.phases) continue;
    out.push_back(b->take());
  }
  return out;
}

}  // namespace envprobe
