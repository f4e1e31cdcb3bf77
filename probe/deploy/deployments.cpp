#include "probe/deploy/deployments.hpp"

#include "probe/base/duration.hpp"

namespace envprobe {

namespace {

// What a detail quotes of a version the target sent: bounded, printable.
std::string quoted(const std::string& version) {
  if (version.empty()) return "no version";
  return '"' + version.substr(0, Deployments::kMaxVersionBytes) + '"';
}

}  // namespace

Deployments::Deployments(std::function<std::int64_t()> nowMs) : nowMs_(std::move(nowMs)) {}

void Deployments::restore(const std::vector<ExpectedVersion>& stored) {
  std::lock_guard lock(mutex_);
  for (const auto& a : stored) byService_[a.service] = a;
}

void Deployments::announce(const ExpectedVersion& announcement) {
  std::lock_guard lock(mutex_);
  auto [it, added] = byService_.try_emplace(announcement.service, announcement);
  if (!added && announcement.announcedUnixMs >= it->second.announcedUnixMs)
    it->second = announcement;
}

std::optional<ExpectedVersion> Deployments::expected(const std::string& service) const {
  std::lock_guard lock(mutex_);
  const auto it = byService_.find(service);
  if (it == byService_.end()) return std::nullopt;
  return it->second;
}

std::vector<ExpectedVersion> Deployments::all() const {
  std::lock_guard lock(mutex_);
  std::vector<ExpectedVersion> out;
  out.reserve(byService_.size());
  for (const auto& [service, a] : byService_) out.push_back(a);
  return out;
}

void Deployments::amend(ProbeResult& result) {
  if (!result.verdict.ok) return;  // already failing: its own reason says more
  const Target& target = result.target->target;
  if (!target.http || target.http->version.kind == ValueSource::Kind::None) return;
  ExpectedVersion expected;
  {
    std::lock_guard lock(mutex_);
    if (byService_.empty()) return;
    const auto it = byService_.find(target.service);
    if (it == byService_.end()) return;
    expected = it->second;
  }
  if (result.verdict.version == expected.version) return;
  const std::int64_t finishedMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      result.finishedAt.time_since_epoch())
                                      .count();
  if (finishedMs < expected.deadlineUnixMs()) return;  // still converging
  result.verdict.ok = false;
  result.verdict.reason = Reason::VersionMismatch;
  result.verdict.detail =
      "serves " + quoted(result.verdict.version) + ", expected \"" + expected.version +
      "\" (announced " +
      formatDuration(std::chrono::milliseconds(std::max<std::int64_t>(
          0, (finishedMs - expected.announcedUnixMs) / 1000 * 1000))) +
      " ago, converge_within " + formatDuration(std::chrono::milliseconds(expected.convergeWithinMs)) +
      ")";
}

Convergence convergence(const ExpectedVersion& expected, const std::vector<SeriesState>& series) {
  Convergence out;
  out.expected = expected;
  for (const auto& s : series) {
    if (s.service != expected.service || !s.versionTracked) continue;
    ConvergenceRow row;
    row.series = &s;
    row.probedSinceAnnouncement = s.lastProbeUnixMs >= expected.announcedUnixMs;
    row.matches = row.probedSinceAnnouncement && s.version == expected.version;
    out.rows.push_back(row);
  }
  out.converged = !out.rows.empty();
  for (const auto& row : out.rows) out.converged = out.converged && row.matches;
  return out;
}

}  // namespace envprobe
