#pragma once
// The HTML of one status-page row and of one change, appended to the page being built (no
// per-row streams or temporaries beyond what escaping hostile bytes needs).
#include <cstdint>
#include <string>

#include "probe/web/status_page.hpp"

namespace envprobe {

// Columns of a row, in order (the table head and the phone layout's labels follow them).
inline constexpr const char* kStatusColumns[] = {"State",     "Target",     "Down since", "Reason",
                                                 "Last 24 h", "24 h",       "7 d",        "Cert",
                                                 "Version",   "Last change"};
inline constexpr int kStatusColumnCount = 10;
inline constexpr std::int64_t kCertWarnDays = 14;

// <tr class="row down|up" data-target=... data-hostname=...> ... </tr>
void appendStatusRow(std::string& out, const StatusRow& row, std::int64_t nowUnix);
// "what: old → new" (values bounded and escaped).
void appendChangeText(std::string& out, const StatusChange& change);
// "5m ago" for a time in the past ("just now" for the future).
void appendAgo(std::string& out, std::int64_t thenUnix, std::int64_t nowUnix);
// An availability 0..1 as "99.95%" (rounded down, so that anything short of 1 never reads
// 100%); "—" when unknown (negative or not a number).
void appendAvailability(std::string& out, double availability);

}  // namespace envprobe
