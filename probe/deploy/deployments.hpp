#pragma once
// Expected versions: what a deploy pipeline announced it deployed, per service of the agent's
// environment (POST /api/v1/deployments, `envprobe deploy`). Once an announcement is older than
// its converge_within, every probe of a check with `version:` that passes but names another
// version fails with reason version_mismatch: the alert that catches a silent rollback.
//
// Thread-safe: the control API announces from HTTP threads, the loop amends results.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "probe/engine/result_sink.hpp"
#include "probe/metrics/series_state.hpp"

namespace envprobe {

struct ExpectedVersion {
  std::string service, version;
  std::int64_t announcedUnixMs = 0;
  std::int64_t convergeWithinMs = 0;
  std::int64_t deadlineUnixMs() const { return announcedUnixMs + convergeWithinMs; }
};

class Deployments : public ResultAmender {
 public:
  static constexpr std::int64_t kDefaultConvergeWithinMs = 10 * 60 * 1000;
  static constexpr std::size_t kMaxVersionBytes = 128;

  // nowMs: the wall clock in unix ms (a fixed value in tests).
  explicit Deployments(std::function<std::int64_t()> nowMs);

  // At startup, the announcements the history kept.
  void restore(const std::vector<ExpectedVersion>& stored);
  // Replaces the service's announcement, unless that one is newer.
  void announce(const ExpectedVersion& announcement);
  std::optional<ExpectedVersion> expected(const std::string& service) const;
  std::vector<ExpectedVersion> all() const;  // by service
  std::int64_t nowMs() const { return nowMs_(); }

  // A passing probe of a check with `version:` whose service has an announcement past its
  // converge_within fails with version_mismatch when it names another version (or none).
  void amend(ProbeResult& result) override;

 private:
  std::function<std::int64_t()> nowMs_;
  mutable std::mutex mutex_;
  std::map<std::string, ExpectedVersion> byService_;
};

// Where one series of the service stands against the announcement.
struct ConvergenceRow {
  const SeriesState* series = nullptr;
  bool probedSinceAnnouncement = false;
  bool matches = false;  // probed since, and serves the announced version
};

struct Convergence {
  ExpectedVersion expected;
  std::vector<ConvergenceRow> rows;  // the service's series of checks with `version:`
  // Every such series was probed after the announcement and serves the announced version
  // (false when the service has none).
  bool converged = false;
};

// `series`: a snapshot of the agent's series; rows point into it.
Convergence convergence(const ExpectedVersion& expected, const std::vector<SeriesState>& series);

}  // namespace envprobe
