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

// A series' known facts as one text: per fact in Fact order, its number, its value's length (two
// bytes, little-endian) and its value. One text per series, shared by every series that knows
// the same facts (a fleet behind one web server and one address).
constexpr std::size_t kMaxEncodedValue = 0xffff;

void decodeFacts(std::string_view text, std::vector<std::pair<Fact, std::string_view>>& out) {
  out.clear();
  while (text.size() >= 3) {
    const auto fact = static_cast<Fact>(static_cast<unsigned char>(text[0]));
    const std::size_t n = static_cast<unsigned char>(text[1]) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(text[2])) << 8);
    if (text.size() < 3 + n) break;  // not written by encodeFacts
    out.emplace_back(fact, text.substr(3, n));
    text.remove_prefix(3 + n);
  }
}

std::string encodeFacts(std::vector<std::pair<Fact, std::string_view>>& facts) {
  std::sort(facts.begin(), facts.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [fact, value] : facts) {
    const std::size_t n = std::min(value.size(), kMaxEncodedValue);
    out.push_back(static_cast<char>(fact));
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.append(value.substr(0, n));
  }
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
    scratch_.clear();
    for (auto& [what, value] : facts)
      if (const auto fact = factFromString(what)) scratch_.emplace_back(*fact, value);
    if (!scratch_.empty()) known_[seriesKeyHash(series)] = encodeFacts(scratch_);
  }
  scratch_.clear();
}

void ChangeTracker::onResult(const ProbeResult& result) {
  auto facts = trackedFactValues(result);
  if (facts.empty()) return;
  const Target& target = result.target->target;
  InternedString& known = known_[seriesHash(target.id, result.address)];
  decodeFacts(known.str(), scratch_);  // views into `known`, which stays until the end
  std::string key;  // built when a fact is new or changed
  const std::int64_t unixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  result.finishedAt.time_since_epoch())
                                  .count();
  for (auto& [fact, value] : facts) {
    auto it = std::find_if(scratch_.begin(), scratch_.end(),
                           [&](const auto& entry) { return entry.first == fact; });
    const bool first = it == scratch_.end();
    if (!first && it->second == value) continue;
    if (key.empty()) key = seriesKey(target.id, result.address);
    const std::string what = toString(fact);
    if (first) {
      scratch_.emplace_back(fact, value);
    } else {
      RecordedChange change{key, &target, result.address, what, std::string(it->second), value,
                            unixMs};
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
  if (!key.empty()) known = encodeFacts(scratch_);
  scratch_.clear();
}

void ChangeTracker::onSeriesRemoved(const Target&, const std::string&) {
  // Kept: a reload that changes a target removes its series and adds them again, and what the
  // target served before is still its baseline (as the history's facts are after a restart).
}

}  // namespace envprobe
