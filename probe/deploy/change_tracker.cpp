#include "probe/deploy/change_tracker.hpp"

#include <algorithm>

#include "probe/base/logging.hpp"
#include "probe/base/utf8.hpp"
#include "probe/web/status_page.hpp"

namespace envprobe {

namespace {

std::string bounded(const std::string& value) {
  if (value.size() <= ChangeTracker::kMaxValueBytes) return makeValidUtf8(value);
  return makeValidUtf8(std::string_view(value).substr(0, ChangeTracker::kMaxValueBytes)) + "…";
}

std::string certificateFact(const TlsFacts& tls) {
  std::string out = "sha256:" + tls.fingerprintSha256;
  if (!tls.issuer.empty()) out += " issuer:" + tls.issuer;
  if (tls.lastChainExpiryUnix > 0) out += " not_after:" + rfc3339(tls.lastChainExpiryUnix);
  return out;
}

}  // namespace

std::vector<std::pair<Fact, std::string>> trackedFactValues(const ProbeResult& result) {
  std::vector<std::pair<Fact, std::string>> out;
  const Target& target = result.target->target;
  const Observation& obs = result.observation;
  if (!target.http || obs.statusCode <= 0) return out;  // no response: nothing was seen
  const HttpCheckSpec& spec = *target.http;
  if (spec.track.tracks(Fact::Server)) out.emplace_back(Fact::Server, bounded(obs.serverHeader));
  if (spec.track.tracks(Fact::Certificate) && obs.tls.present &&
      !obs.tls.fingerprintSha256.empty())
    out.emplace_back(Fact::Certificate, bounded(certificateFact(obs.tls)));
  // The DNS answer as a set (round-robin order is not a change); a pinned backend: its address.
  const std::string& addresses =
      obs.resolvedAddresses.empty() ? obs.resolvedAddress : obs.resolvedAddresses;
  if (spec.track.tracks(Fact::Addresses) && !addresses.empty())
    out.emplace_back(Fact::Addresses, bounded(addresses));
  if (spec.track.tracks(Fact::Version) && spec.version.kind != ValueSource::Kind::None &&
      !result.verdict.version.empty())
    out.emplace_back(Fact::Version, bounded(result.verdict.version));
  if (spec.track.tracks(Fact::Body) && !result.verdict.bodySha256.empty())
    out.emplace_back(Fact::Body, "sha256:" + result.verdict.bodySha256);
  return out;
}

std::vector<std::pair<std::string, std::string>> trackedFacts(const ProbeResult& result) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [fact, value] : trackedFactValues(result))
    out.emplace_back(toString(fact), std::move(value));
  return out;
}

ChangeTracker::ChangeTracker(ProbeMetrics& metrics, Store store,
                             std::map<std::string, std::map<std::string, std::string>> known)
    : metrics_(metrics), store_(std::move(store)) {
  for (auto& [series, facts] : known) {
    Known compact;
    for (auto& [what, value] : facts)
      if (const auto fact = factFromString(what)) compact.emplace_back(*fact, std::move(value));
    compact.shrink_to_fit();
    if (!compact.empty()) known_.emplace(seriesKeyHash(series), std::move(compact));
  }
}

void ChangeTracker::onResult(const ProbeResult& result) {
  auto facts = trackedFactValues(result);
  if (facts.empty()) return;
  const Target& target = result.target->target;
  auto& known = known_[seriesHash(target.id, result.address)];
  std::string key;  // built when a fact is new or changed
  const std::int64_t unixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  result.finishedAt.time_since_epoch())
                                  .count();
  for (auto& [fact, value] : facts) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const auto& entry) { return entry.first == fact; });
    const bool first = it == known.end();
    if (!first && it->second == value) continue;
    if (key.empty()) key = seriesKey(target.id, result.address);
    const std::string what = toString(fact);
    if (first) {
      known.emplace_back(fact, value);
      known.shrink_to_fit();
    } else {
      RecordedChange change{key, &target, result.address, what, it->second, value, unixMs};
      logInfo("target changed", {{"target", target.id},
                                 {"address", result.address},
                                 {"what", what},
                                 {"old", change.oldValue},
                                 {"new", change.newValue}});
      metrics_.noteChange(target.id, result.address,
                          SeriesChange{what, change.oldValue, value, unixMs});
      if (store_.change) store_.change(change);
      it->second = value;
    }
    if (store_.fact) store_.fact(key, what, value, unixMs);
  }
}

void ChangeTracker::onSeriesRemoved(const Target&, const std::string&) {
  // Kept: a reload that changes a target removes its series and adds them again, and what the
  // target served before is still its baseline (as the history's facts are after a restart).
}

}  // namespace envprobe
