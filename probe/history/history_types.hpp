#pragma once
// What the history store keeps, as plain data (no SQLite here): other libraries read and compute
// on these without linking the store.
#include <cstddef>
#include <cstdint>
#include <string>

namespace envprobe {

// A series' change of state (up <-> down).
struct HistoryTransition {
  std::string series;       // seriesKey(target id, address)
  std::int64_t unixMs = 0;  // when the result that changed the state finished
  bool up = false;
  std::string reason;  // "" when up
  std::string detail;  // cut to HistoryStore::kMaxDetailBytes
};

// A series' latest stored state.
struct HistoryState {
  bool up = false;
  std::int64_t sinceUnixMs = 0;
  std::string reason, detail;
};

// A tracked fact of a series (e.g. the version it serves) that changed value.
struct FactChange {
  std::string series, targetId, env, service, hostname, visibility, check, address, what, oldValue,
      newValue;  // the values are cut to HistoryStore::kMaxDetailBytes
  std::int64_t unixMs = 0;
};

// The latest announcement of a service (a deploy: this version, converged within this long).
struct Announcement {
  std::string service, version;  // the version is cut to HistoryStore::kMaxDetailBytes
  std::int64_t announcedUnixMs = 0, convergeWithinMs = 0;
};

// Which changes HistoryStore::queryChanges returns, newest first. Empty strings match any.
struct ChangeQuery {
  std::int64_t sinceUnixMs = 0;
  std::string service, env, series;
  std::size_t limit = 1000;
};

}  // namespace envprobe
