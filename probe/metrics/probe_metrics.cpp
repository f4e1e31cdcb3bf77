#include "probe/metrics/probe_metrics.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "probe/catalog/instance_label.hpp"
#include "probe/metrics/ip_facts.hpp"

namespace envprobe {

namespace {

// Interns `value` only when it differs from what `field` holds (most results repeat the last).
void assignIfChanged(InternedString& field, const std::string& value) {
  if (!(field == value)) field = value;
}

void applyChange(StoredFacts& s, const SeriesChange& change) {
  SeriesLastChange& last = s.lastChange.edit();
  if (change.unixMs >= last.unixMs) {
    last.what = change.what;
    last.oldValue = change.oldValue;
    last.newValue = change.newValue;
    last.unixMs = change.unixMs;
  }
  auto& at = last.byWhat[change.what];
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

std::size_t ProbeMetrics::find(const std::string& targetId, const std::string& address) const {
  auto [it, end] = index_.equal_range(seriesHash(targetId, address));
  for (; it != end; ++it) {
    const ExposedSeries& series = *slots_[it->second];
    if (series.targetId() == targetId && series.address == address) return it->second;
  }
  return kNoSlot;
}

void ProbeMetrics::record(const ProbeResult& result) {
  const Target& t = result.target->target;
  const Observation& obs = result.observation;
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t slot = find(t.id, result.address);
  const bool first = slot == kNoSlot;
  if (first) {
    auto series = std::make_unique<ExposedSeries>();
    series->target = result.target;
    series->address = result.address;
    series->born = epoch_;
    slot = slots_.size();
    slots_.push_back(std::move(series));
    index_.emplace(seriesHash(t.id, result.address), slot);
    ++layout_;
  }
  ExposedSeries& exposed = writable(slot);
  StoredFacts& s = exposed.state;
  // The history's seeds are by seriesKey; there are none once every series had its first result.
  const std::string exposedKey =
      first && (!seededDownSince_.empty() || !seededChanges_.empty())
          ? seriesKey(t.id, result.address)
          : std::string();
  const std::int64_t finished = std::chrono::duration_cast<std::chrono::seconds>(
                                   result.finishedAt.time_since_epoch())
                                   .count();
  if (result.verdict.ok) {
    s.downSinceUnix = 0;
  } else if (first || s.success || s.downSinceUnix == 0) {
    s.downSinceUnix = finished;
  }
  if (first && !seededDownSince_.empty()) {
    if (auto seed = seededDownSince_.find(exposedKey); seed != seededDownSince_.end()) {
      if (!result.verdict.ok && seed->second > 0) s.downSinceUnix = seed->second;
      seededDownSince_.erase(seed);
    }
  }
  s.success = result.verdict.ok;
  s.reason = result.verdict.reason;
  assignIfChanged(s.detail, result.verdict.detail);
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
  if (!obs.tls.present) s.tls.reset();
  else if (!s.tls || *s.tls != obs.tls) s.tls.set(obs.tls);  // mostly the same cert
  if (first || obs.resolvedAddress != s.resolvedAddress.str()) {  // parsed once per address seen
    const auto ip = ipFacts(obs.resolvedAddress);
    s.ipProtocol = ip ? ip->protocol : 0;
    s.ipHash = ip ? ip->hash : 0;
  }
  if (first && !seededChanges_.empty()) {
    if (auto seed = seededChanges_.find(exposedKey); seed != seededChanges_.end()) {
      for (const auto& change : seed->second) applyChange(s, change);
      seededChanges_.erase(seed);
    }
  }
  s.failedDueToRegex = result.verdict.failedDueToRegex;
  s.lastProbeUnixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                          result.finishedAt.time_since_epoch())
                          .count();
  assignIfChanged(s.version, result.verdict.version);
  s.versionTracked = t.http && t.http->version.kind != ValueSource::Kind::None;
  assignIfChanged(s.serverHeader, obs.serverHeader);
  assignIfChanged(s.resolvedAddress, obs.resolvedAddress);
  ++s.probes;
  if (!result.verdict.ok) {
    const Reason reason = result.verdict.reason;
    auto it = std::lower_bound(s.failures.begin(), s.failures.end(), reason,
                               [](const auto& entry, Reason r) { return entry.first < r; });
    if (it == s.failures.end() || it->first != reason) it = s.failures.insert(it, {reason, 0});
    ++it->second;
  }
}

void ProbeMetrics::noteChange(const std::string& targetId, const std::string& address,
                              const SeriesChange& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const std::size_t slot = find(targetId, address); slot != kNoSlot)
    applyChange(writable(slot).state, change);
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
  std::unique_ptr<ExposedSeries> victim;  // freed after the lock
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t slot = find(targetId, address);
  if (slot == kNoSlot) return;
  // A reload that changes a target removes its series and adds them again: their last change
  // comes back with them (as it does from the history after a restart).
  const StoredFacts& gone = slots_[slot]->state;
  if (gone.lastChange->unixMs > 0) {
    auto& seed = seededChanges_[seriesKey(targetId, address)];
    for (const auto& [what, at] : gone.lastChange->byWhat)
      if (what != gone.lastChange->what) seed.push_back({what, "", "", at * 1000});
    seed.push_back({gone.lastChange->what, gone.lastChange->oldValue, gone.lastChange->newValue,
                    gone.lastChange->unixMs});
  }
  // Its index entry goes; the last slot moves into its place, and its entry follows.
  auto entryOf = [this](std::size_t which) {
    const ExposedSeries& series = *slots_[which];
    auto [it, end] = index_.equal_range(seriesHash(series.targetId(), series.address));
    while (it != end && it->second != which) ++it;
    return it;
  };
  index_.erase(entryOf(slot));
  const std::size_t last = slots_.size() - 1;
  if (slot != last) entryOf(last)->second = slot;
  victim = std::move(slots_[slot]);
  if (slot != last) slots_[slot] = std::move(slots_[last]);
  slots_.pop_back();
  ++layout_;
  if (!liveSnapshots_.empty()) retired_.emplace_back(epoch_, std::move(victim));
}

ExposedSeries& ProbeMetrics::writable(std::size_t slot) {
  std::unique_ptr<ExposedSeries>& current = slots_[slot];
  // A live snapshot with an epoch after this version's birth may hold it: copy, keep the old.
  if (!liveSnapshots_.empty() && liveSnapshots_.rbegin()->first > current->born) {
    auto copy = std::make_unique<ExposedSeries>(*current);
    copy->born = epoch_;
    retired_.emplace_back(epoch_, std::move(current));
    current = std::move(copy);
  }
  return *current;
}

SeriesSnapshot ProbeMetrics::exposedSnapshot() const {
  SeriesSnapshot out;
  std::size_t expected = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    expected = slots_.size();
  }
  out.series_.resize(expected + 256);  // allocated and touched before the lock
  std::uint64_t layout = 0;
  bool sorted = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto locked = std::chrono::steady_clock::now();
    out.owner_ = this;
    out.epoch_ = ++epoch_;
    ++liveSnapshots_[out.epoch_];
    if (out.series_.size() < slots_.size()) out.series_.resize(slots_.size());
    layout = layout_;
    // The same series as when the order was last worked out: copy them in that order.
    sorted = orderLayout_ == layout_;
    if (sorted) {
      for (std::size_t i = 0; i < slots_.size(); ++i) out.series_[i] = slots_[order_[i]].get();
    } else {
      for (std::size_t i = 0; i < slots_.size(); ++i) out.series_[i] = slots_[i].get();
    }
    out.series_.resize(slots_.size());
    lastLockNanos_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - locked)
                             .count());
  }
  if (sorted) return out;
  // Sorted by slot number, which is what the next snapshot needs when no series came or went.
  std::vector<std::uint32_t> order(out.series_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  const auto& bySlot = out.series_;
  std::sort(order.begin(), order.end(), [&bySlot](std::uint32_t a, std::uint32_t b) {
    return seriesKeyLess(*bySlot[a], *bySlot[b]);
  });
  std::vector<const ExposedSeries*> inOrder(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inOrder[i] = bySlot[order[i]];
  out.series_ = std::move(inOrder);
  std::lock_guard<std::mutex> lock(mutex_);
  if (layout_ == layout) {
    order_ = std::move(order);
    orderLayout_ = layout;
  }
  return out;
}

void ProbeMetrics::release(std::uint64_t epoch) const {
  std::vector<std::unique_ptr<ExposedSeries>> freed;  // freed after the lock
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = liveSnapshots_.find(epoch); it != liveSnapshots_.end() && --it->second == 0)
    liveSnapshots_.erase(it);
  // A version replaced in epoch R may be held by live snapshots with an epoch <= R.
  const std::uint64_t oldestLive =
      liveSnapshots_.empty() ? UINT64_MAX : liveSnapshots_.begin()->first;
  auto keep = retired_.begin();
  for (auto& entry : retired_) {
    if (entry.first < oldestLive) freed.push_back(std::move(entry.second));
    else *keep++ = std::move(entry);
  }
  retired_.erase(keep, retired_.end());
}

SeriesSnapshot& SeriesSnapshot::operator=(SeriesSnapshot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    epoch_ = other.epoch_;
    series_ = std::move(other.series_);
    other.series_.clear();
  }
  return *this;
}

void SeriesSnapshot::release() {
  series_.clear();
  if (owner_) std::exchange(owner_, nullptr)->release(epoch_);
}

std::vector<SeriesState> ProbeMetrics::snapshot() const {
  const SeriesSnapshot series = exposedSnapshot();
  std::vector<SeriesState> out;
  out.reserve(series.size());
  for (const auto& s : series) out.push_back(s->value());
  return out;
}

SeriesState ExposedSeries::value() const {
  SeriesState out = seriesIdentity(target->target, address);
  state.expandInto(out);
  return out;
}

bool seriesKeyLess(const ExposedSeries& a, const ExposedSeries& b) {
  const int byId = a.targetId().compare(b.targetId());
  return byId != 0 ? byId < 0 : a.address < b.address;
}

void appendSeriesLabels(std::string& out, const Target& t, const std::string& address) {
  appendLabel(out, "env", t.env);
  out.push_back(',');
  appendLabel(out, "service", t.service);
  out.push_back(',');
  appendLabel(out, "check", t.check);
  out.push_back(',');
  appendLabel(out, "hostname", t.hostname);
  out.push_back(',');
  appendLabel(out, "visibility", toString(t.visibility));
  if (!address.empty()) {
    out.push_back(',');
    appendLabel(out, "address", address);
  }
  // The instance without building it: its parts escaped one after another are it escaped.
  out.append(",instance=\"");
  std::string redacted;
  appendLabelValue(out, instanceView(t, redacted));
  if (!address.empty()) {
    out.push_back('@');
    appendLabelValue(out, address);
  }
  out.push_back('"');
}

}  // namespace envprobe
