#include "probe/history/history_sink.hpp"

#include <string_view>

namespace envprobe {

HistorySink::HistorySink(HistoryStore& store, const std::map<std::string, HistoryState>& last)
    : store_(store) {
  for (const auto& [series, state] : last) up_.emplace(hashOf(series), state.up);
}

namespace {

// FNV-1a 64, over the bytes of seriesKey(id, address) without building it.
std::uint64_t fnv(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

}  // namespace

std::uint64_t HistorySink::hashOf(const std::string& seriesKey) { return fnv(kFnvBasis, seriesKey); }

std::uint64_t HistorySink::hashOf(const std::string& targetId, const std::string& address) {
  return fnv(fnv(fnv(kFnvBasis, targetId), "\n"), address);
}

void HistorySink::onResult(const ProbeResult& result) {
  const bool up = result.verdict.ok;
  const std::string& id = result.target->target.id;
  const auto [it, inserted] = up_.try_emplace(hashOf(id, result.address), up);
  if (!inserted) {
    if (it->second == up) return;
    it->second = up;
  }
  HistoryTransition t;
  t.series = seriesKey(id, result.address);
  t.unixMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                 result.finishedAt.time_since_epoch())
                 .count();
  t.up = up;
  if (!up) {
    t.reason = toString(result.verdict.reason);
    t.detail = result.verdict.detail;
  }
  store_.record(std::move(t));
}

void HistorySink::onSeriesRemoved(const Target& target, const std::string& address) {
  up_.erase(hashOf(target.id, address));
}

}  // namespace envprobe
