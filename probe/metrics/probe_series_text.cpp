// ProbeMetrics::writeText(): the probe series straight to the text format, family by family,
// from a snapshot taken under the lock in microseconds; the formatting runs without the lock.
// The output equals Collect() serialized by prometheus::TextSerializer (probe_metrics_collect.cpp)
// except where that was wrong: NaN is spelled "NaN", label values are made valid UTF-8, and
// values that need 17 significant digits keep them.
#include "probe/metrics/probe_families.hpp"
#include "probe/metrics/probe_metrics.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace envprobe {

namespace {

class SeriesTextWriter {
 public:
  // Formats every series' label set once, into one buffer, for all the families of this scrape
  // (kept per series, they would cost ~180 bytes a series for the agent's whole life).
  SeriesTextWriter(TextWriter& out, const SeriesSnapshot& series) : out_(out), series_(series) {
    ends_.reserve(series.size());
    labels_.reserve(series.size() * 176);
    for (const auto& exposed : series) {
      appendSeriesLabels(labels_, exposed->target->target, exposed->address);
      ends_.push_back(labels_.size());
    }
  }

  // The family's HELP/TYPE, then fn(state, labels) for every series. `field` is the fact fn
  // reads first: it is fetched into the cache a few series ahead, since the series lie all over
  // the heap and a family reads one or two cache lines of each.
  template <typename Field, typename Owner, typename Fn>
  void family(const probe_family::Info& info, Field Owner::*field, Fn&& fn) {
    if (out_.failed()) return;
    out_.family(info.name, info.help, info.type());
    const std::string_view all(labels_);
    const std::size_t n = series_.size();
    for (std::size_t i = 0; i < std::min(n, kAhead); ++i)
      __builtin_prefetch(&(series_[i]->state.*field));
    std::size_t begin = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(&(series_[i + kAhead]->state.*field));
      fn(series_[i]->state, all.substr(begin, ends_[i] - begin));
      begin = ends_[i];
      if (out_.failed()) return;
    }
  }

 private:
  static constexpr std::size_t kAhead = 8;
  TextWriter& out_;
  const SeriesSnapshot& series_;
  std::string labels_;             // every series' label set, one after another
  std::vector<std::size_t> ends_;  // where each series' label set ends in labels_
};

double flag(bool b) { return b ? 1 : 0; }

}  // namespace

void ProbeMetrics::writeText(TextWriter& out) const {
  namespace f = probe_family;
  const SeriesSnapshot series = exposedSnapshot();
  SeriesTextWriter w(out, series);
  using L = std::string_view;
  w.family(f::kSuccess, &StoredFacts::success, [&](const StoredFacts& s, L l) {
    out.sample(f::kSuccess.name, l, flag(s.success));
  });
  w.family(f::kDuration, &StoredFacts::durationSeconds, [&](const StoredFacts& s, L l) {
    out.sample(f::kDuration.name, l, s.durationSeconds);
  });
  w.family(f::kStatus, &StoredFacts::statusCode, [&](const StoredFacts& s, L l) {
    out.sample(f::kStatus.name, l, s.statusCode);
  });
  if (settings_.phases) {
    w.family(f::kPhases, &StoredFacts::phases, [&](const StoredFacts& s, L l) {
      const double values[] = {s.phases.resolve, s.phases.connect, s.phases.tls,
                               s.phases.processing, s.phases.transfer};
      for (std::size_t i = 0; i < std::size(values); ++i)
        out.sample(f::kPhases.name, l, "phase", f::kPhaseNames[i], values[i]);
    });
  }
  w.family(f::kDns, &StoredFacts::dnsSeconds, [&](const StoredFacts& s, L l) {
    out.sample(f::kDns.name, l, s.dnsSeconds);
  });
  w.family(f::kLength, &StoredFacts::contentLength, [&](const StoredFacts& s, L l) {
    out.sample(f::kLength.name, l, static_cast<double>(s.contentLength));
  });
  w.family(f::kVersion, &StoredFacts::httpVersion, [&](const StoredFacts& s, L l) {
    out.sample(f::kVersion.name, l, s.httpVersion);
  });
  w.family(f::kSsl, &StoredFacts::ssl, [&](const StoredFacts& s, L l) { out.sample(f::kSsl.name, l, flag(s.ssl)); });
  w.family(f::kRedirects, &StoredFacts::redirects, [&](const StoredFacts& s, L l) {
    out.sample(f::kRedirects.name, l, s.redirects);
  });
  w.family(f::kExpiry, &StoredFacts::certPresent, [&](const StoredFacts& s, L l) {
    if (s.certPresent) out.sample(f::kExpiry.name, l, static_cast<double>(s.certExpiry));
  });
  w.family(f::kBodyLength, &StoredFacts::uncompressedBodyLength, [&](const StoredFacts& s, L l) {
    out.sample(f::kBodyLength.name, l, static_cast<double>(s.uncompressedBodyLength));
  });
  w.family(f::kIpProtocol, &StoredFacts::ipProtocol, [&](const StoredFacts& s, L l) {
    out.sample(f::kIpProtocol.name, l, s.ipProtocol);
  });
  w.family(f::kIpHash, &StoredFacts::ipHash, [&](const StoredFacts& s, L l) {
    out.sample(f::kIpHash.name, l, static_cast<double>(s.ipHash));
  });
  w.family(f::kTlsVersion, &StoredFacts::tls, [&](const StoredFacts& s, L l) {
    if (s.tls->present) out.sample(f::kTlsVersion.name, l, "version", s.tls->version, 1);
  });
  w.family(f::kChainExpiry, &StoredFacts::tls, [&](const StoredFacts& s, L l) {
    if (s.tls->present && s.tls->chainVerified)
      out.sample(f::kChainExpiry.name, l, static_cast<double>(s.tls->lastChainExpiryUnix));
  });
  w.family(f::kChainInfo, &StoredFacts::tls, [&](const StoredFacts& s, L l) {
    if (!s.tls->present) return;
    out.sample(f::kChainInfo.name, l,
               {{"fingerprint_sha256", s.tls->fingerprintSha256},
                {"subject", s.tls->subject},
                {"issuer", s.tls->issuer},
                {"subjectalternative", s.tls->subjectAlternative},
                {"serialnumber", s.tls->serialNumber}},
               1);
  });
  w.family(f::kRegex, &StoredFacts::failedDueToRegex, [&](const StoredFacts& s, L l) {
    out.sample(f::kRegex.name, l, flag(s.failedDueToRegex));
  });
  w.family(f::kFailures, &StoredFacts::failures, [&](const StoredFacts& s, L l) {
    for (const auto& [reason, count] : s.failures)
      out.sample(f::kFailures.name, l, "reason", toString(reason), static_cast<double>(count));
  });
  w.family(f::kFailing, &StoredFacts::success, [&](const StoredFacts& s, L l) {
    if (!s.success) out.sample(f::kFailing.name, l, "reason", toString(s.reason), 1);
  });
  w.family(f::kLastRun, &StoredFacts::lastProbeUnixMs, [&](const StoredFacts& s, L l) {
    out.sample(f::kLastRun.name, l, static_cast<double>(s.lastProbeUnix()));
  });
  w.family(f::kDeployed, &StoredFacts::version, [&](const StoredFacts& s, L l) {
    if (!s.version.empty()) out.sample(f::kDeployed.name, l, "version", s.version.str(), 1);
  });
  w.family(f::kChanged, &StoredFacts::lastChange, [&](const StoredFacts& s, L l) {
    for (const auto& [what, at] : s.lastChange->byWhat)
      out.sample(f::kChanged.name, l, "what", what, static_cast<double>(at));
  });
}

}  // namespace envprobe
