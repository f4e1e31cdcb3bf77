#pragma once
// Maintenance windows: while one is active for a target its alerts are held back; probing and
// metrics carry on. A window always ends, and is bounded in length, so a forgotten window cannot
// silence a target for long.
#include <optional>
#include <string>
#include <vector>

#include "probe/alerting/alert_model.hpp"

namespace envprobe {

struct MaintenanceWindow {
  std::string name;
  // Exact-string matchers; an absent matcher matches anything. At least one is required.
  std::optional<std::string> service;
  std::optional<std::string> hostname;
  std::optional<std::string> check;
  SystemTime start{};  // the epoch (default) means "not given"
  SystemTime end{};    // likewise; give end or duration, not both
  std::optional<Duration> duration;
  // Weekly recurrence: on these UTC weekdays (0 = Sunday .. 6 = Saturday), on or after the start
  // date, the window [start's time of day, + length) repeats. Empty: one occurrence only.
  std::vector<int> weekdays;
};

// end, or start + duration when only a duration was given.
SystemTime windowEnd(const MaintenanceWindow& window);

// Problems as plain messages (the loader adds file:line): no matcher, empty matcher, no start,
// no end, both end and duration, end not after start, longer than maxLength, bad weekday.
std::vector<std::string> validateWindow(const MaintenanceWindow& window,
                                        Duration maxLength = std::chrono::hours(24));

// A weekday as written in `weekly:`: sun..sat or sunday..saturday, any case. 0 = Sunday; nullopt
// for anything else ("monkey" is not Monday).
std::optional<int> parseWeekday(const std::string& text);

bool windowActive(const MaintenanceWindow& window, SystemTime now);
bool windowMatches(const MaintenanceWindow& window, const std::string& service,
                   const std::string& hostname, const std::string& check);
// True when any window matches the target and is active at `now`.
bool inMaintenance(const std::vector<MaintenanceWindow>& windows, const std::string& service,
                   const std::string& hostname, const std::string& check, SystemTime now);

// RFC 3339: "2026-11-22T01:00:00Z", "2026-11-22T03:00:00+02:00", fractional seconds allowed,
// 't'/'z' accepted. nullopt for anything else, including impossible dates.
std::optional<SystemTime> parseTimestamp(const std::string& rfc3339);
// UTC with milliseconds, "2026-11-22T01:00:00.000Z": what Alertmanager's API expects.
std::string formatTimestamp(SystemTime time);

}  // namespace envprobe
