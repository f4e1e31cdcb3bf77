#pragma once
// Text helpers for the HTML the agent renders: escaping of hostile bytes, times and durations
// as an on-call reader wants them. Every function appends to (or returns) valid UTF-8 and never
// throws on any input.
#include <cstdint>
#include <string>
#include <string_view>

namespace envprobe {

// The bytes made valid UTF-8 and escaped for an HTML text node or a quoted attribute value;
// control characters (never meaningful in a cell) become U+FFFD, the tab stays.
std::string htmlEscape(const std::string& text);
void appendEscaped(std::string& out, std::string_view text);
// Like appendEscaped, cut to at most maxBytes of input (on a UTF-8 boundary), "…" when cut.
void appendEscapedBounded(std::string& out, std::string_view text, std::size_t maxBytes);

// "2024-05-01T12:00:00Z".
std::string rfc3339(std::int64_t unixSeconds);
// A span of time as "45s", "12m 5s", "3h 12m", "2d 3h"; negative counts as 0.
void appendDuration(std::string& out, std::int64_t seconds);
void appendInt(std::string& out, std::int64_t value);

}  // namespace envprobe
