#include "probe/web/html_text.hpp"

#include <charconv>
#include <ctime>

#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

// Escapes bytes already known to be valid UTF-8: runs that need nothing are copied at once.
void appendEscapedValid(std::string& out, std::string_view valid) {
  std::size_t runStart = 0;
  auto flush = [&](std::size_t end) {
    if (end > runStart) out.append(valid.data() + runStart, end - runStart);
  };
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    const char* replacement = nullptr;
    switch (c) {
      case '&':
        replacement = "&amp;";
        break;
      case '<':
        replacement = "&lt;";
        break;
      case '>':
        replacement = "&gt;";
        break;
      case '"':
        replacement = "&quot;";
        break;
      case '\'':
        replacement = "&#39;";
        break;
      default:
        if ((c < 0x20 && c != '\t') || c == 0x7f) replacement = "\xEF\xBF\xBD";
    }
    if (!replacement) continue;
    flush(i);
    out += replacement;
    runStart = i + 1;
  }
  flush(valid.size());
}

}  // namespace

void appendEscaped(std::string& out, std::string_view text) {
  if (isValidUtf8(text)) {
    appendEscapedValid(out, text);
  } else {
    appendEscapedValid(out, makeValidUtf8(text));
  }
}

void appendEscapedBounded(std::string& out, std::string_view text, std::size_t maxBytes) {
  if (text.size() <= maxBytes) {
    appendEscaped(out, text);
    return;
  }
  std::size_t cut = maxBytes;
  // Back off continuation bytes so that a valid character is not split (at most 3).
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i)
    --cut;
  appendEscaped(out, text.substr(0, cut));
  out += "\xE2\x80\xA6";
}

std::string htmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  appendEscaped(out, text);
  return out;
}

std::string rfc3339(std::int64_t unixSeconds) {
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm utc{};
  if (!gmtime_r(&t, &utc)) return std::to_string(unixSeconds);
  char text[64];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
    return std::to_string(unixSeconds);
  return text;
}

void appendInt(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void appendDuration(std::string& out, std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  const std::int64_t days = seconds / 86400, hours = seconds / 3600 % 24;
  const std::int64_t minutes = seconds / 60 % 60, secs = seconds % 60;
  // The largest unit and, when not zero, the next one.
  std::int64_t major = secs, minor = 0;
  char majorUnit = 's', minorUnit = 's';
  if (days > 0) {
    major = days, majorUnit = 'd', minor = hours, minorUnit = 'h';
  } else if (hours > 0) {
    major = hours, majorUnit = 'h', minor = minutes, minorUnit = 'm';
  } else if (minutes > 0) {
    major = minutes, majorUnit = 'm', minor = secs, minorUnit = 's';
  }
  appendInt(out, major);
  out += majorUnit;
  if (minor > 0) {
    out += ' ';
    appendInt(out, minor);
    out += minorUnit;
  }
}

}  // namespace envprobe
