#include "probe/alerting/maintenance.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>

namespace envprobe {

namespace {

using std::chrono::days;
using std::chrono::floor;

// "26h", "1h30m", "45s": enough for error messages without pulling in the duration parser.
std::string describe(Duration d) {
  const auto total = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (total <= 0) return std::to_string(d.count()) + "ms";
  std::string out;
  if (total / 3600 > 0) out += std::to_string(total / 3600) + "h";
  if (total % 3600 / 60 > 0) out += std::to_string(total % 3600 / 60) + "m";
  if (total % 60 > 0) out += std::to_string(total % 60) + "s";
  return out;
}

bool matcherMatches(const std::optional<std::string>& matcher, const std::string& value) {
  return !matcher || *matcher == value;
}

// A cursor over a timestamp string: every reader checks bounds and advances only on success.
struct Cursor {
  const std::string& text;
  std::size_t pos = 0;

  bool number(int width, int& out) {
    if (pos + static_cast<std::size_t>(width) > text.size()) return false;
    int value = 0;
    for (int i = 0; i < width; ++i) {
      const char c = text[pos + static_cast<std::size_t>(i)];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    pos += static_cast<std::size_t>(width);
    out = value;
    return true;
  }
  bool literal(char a, char b = '\0') {
    if (pos >= text.size() || (text[pos] != a && (b == '\0' || text[pos] != b))) return false;
    ++pos;
    return true;
  }
  bool done() const { return pos == text.size(); }
};

}  // namespace

SystemTime windowEnd(const MaintenanceWindow& window) {
  if (window.end == SystemTime{} && window.duration)
    return window.start + std::chrono::duration_cast<SystemTime::duration>(*window.duration);
  return window.end;
}

std::vector<std::string> validateWindow(const MaintenanceWindow& window, Duration maxLength) {
  std::vector<std::string> errors;
  if (!window.service && !window.hostname && !window.check)
    errors.push_back("needs at least one matcher: service, hostname or check");
  const std::pair<const char*, const std::optional<std::string>*> matchers[] = {
      {"service", &window.service}, {"hostname", &window.hostname}, {"check", &window.check}};
  for (const auto& [key, matcher] : matchers) {
    if (*matcher && (*matcher)->empty())
      errors.push_back(std::string("matcher ") + key + " is empty: it would match nothing");
  }

  const bool hasStart = window.start != SystemTime{};
  const bool hasEnd = window.end != SystemTime{};
  if (!hasStart) errors.push_back("has no start");
  if (hasEnd && window.duration) {
    errors.push_back("give end or duration, not both");
  } else if (!hasEnd && !window.duration) {
    errors.push_back("has no end: give end or duration (a window must end)");
  } else if (!hasEnd && *window.duration <= Duration::zero()) {
    errors.push_back("duration must be positive");
  } else if (hasStart) {
    const SystemTime end = windowEnd(window);
    if (end <= window.start) {
      errors.push_back("end is not after start");
    } else if (end - window.start > maxLength) {
      const auto length = std::chrono::duration_cast<Duration>(end - window.start);
      errors.push_back("lasts " + describe(length) + ", longer than the maximum of " +
                       describe(maxLength));
    }
  }

  for (const int weekday : window.weekdays) {
    if (weekday < 0 || weekday > 6)
      errors.push_back("bad weekday " + std::to_string(weekday) +
                       ": expected 0 (Sunday) to 6 (Saturday)");
  }
  return errors;
}

std::optional<int> parseWeekday(const std::string& text) {
  static const char* const kNames[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int day = 0; day < 7; ++day) {
    const std::string full = kNames[day];
    if (lower == full || lower == full.substr(0, 3)) return day;
  }
  return std::nullopt;
}

bool windowActive(const MaintenanceWindow& window, SystemTime now) {
  const SystemTime end = windowEnd(window);
  if (window.start == SystemTime{} || end <= window.start) return false;  // invalid: never holds
  if (window.weekdays.empty()) return now >= window.start && now < end;
  if (now < window.start) return false;  // no occurrence begins before the first

  // Occurrences start at the same UTC time of day; one that covers `now` began today or, for a
  // window crossing midnight, up to ceil(length / 1 day) days earlier.
  const auto length = end - window.start;
  const auto startDay = floor<days>(window.start);
  const auto timeOfDay = window.start - startDay;
  const auto today = floor<days>(now);
  const auto lookback = std::chrono::ceil<days>(length);
  for (auto day = today - lookback; day <= today; day += days(1)) {
    if (day < startDay) continue;
    const int weekday = static_cast<int>(std::chrono::weekday(day).c_encoding());
    if (std::find(window.weekdays.begin(), window.weekdays.end(), weekday) == window.weekdays.end())
      continue;
    const auto occurrence = day + timeOfDay;
    if (now >= occurrence && now < occurrence + length) return true;
  }
  return false;
}

bool windowMatches(const MaintenanceWindow& window, const std::string& service,
                   const std::string& hostname, const std::string& check) {
  return matcherMatches(window.service, service) && matcherMatches(window.hostname, hostname) &&
         matcherMatches(window.check, check);
}

bool inMaintenance(const std::vector<MaintenanceWindow>& windows, const std::string& service,
                   const std::string& hostname, const std::string& check, SystemTime now) {
  return std::any_of(windows.begin(), windows.end(), [&](const MaintenanceWindow& window) {
    return windowMatches(window, service, hostname, check) && windowActive(window, now);
  });
}

std::optional<SystemTime> parseTimestamp(const std::string& rfc3339) {
  Cursor in{rfc3339};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!in.number(4, year) || !in.literal('-') || !in.number(2, month) || !in.literal('-') ||
      !in.number(2, day) || !in.literal('T', 't') || !in.number(2, hour) || !in.literal(':') ||
      !in.number(2, minute) || !in.literal(':') || !in.number(2, second))
    return std::nullopt;
  // second 60 is a leap second; it lands on the next minute's :00.
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  // system_clock counts nanoseconds: years past 2261 (or before 1678) overflow it.
  if (year < 1970 || year > 2200) return std::nullopt;

  std::int64_t nanos = 0;
  if (in.literal('.')) {
    int digits = 0;
    while (!in.done() && rfc3339[in.pos] >= '0' && rfc3339[in.pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (rfc3339[in.pos] - '0');
      ++digits;
      ++in.pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }

  std::chrono::minutes offset{0};
  if (!in.literal('Z', 'z')) {
    const bool ahead = in.literal('+');
    if (!ahead && !in.literal('-')) return std::nullopt;
    int offsetHours = 0, offsetMinutes = 0;
    if (!in.number(2, offsetHours) || !in.literal(':') || !in.number(2, offsetMinutes) ||
        offsetHours > 23 || offsetMinutes > 59)
      return std::nullopt;
    offset = std::chrono::hours(offsetHours) + std::chrono::minutes(offsetMinutes);
    if (!ahead) offset = -offset;
  }
  if (!in.done()) return std::nullopt;

  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  SystemTime time = std::chrono::sys_days(date);
  time += std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
  time += std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
  return time - offset;  // local time minus its offset is UTC
}

std::string formatTimestamp(SystemTime time) {
  const auto day = floor<days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{floor<std::chrono::milliseconds>(time - day)};
  char buffer[40];
  std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return buffer;
}

}  // namespace envprobe
