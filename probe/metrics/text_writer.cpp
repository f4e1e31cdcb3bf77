#include "probe/metrics/text_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace envprobe {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  const auto cont = [&](std::size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool plain(std::string_view value) {
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c == '\\' || c == '"' || c == '\n') return false;
  }
  return true;
}

}  // namespace

void appendLabelValue(std::string& out, std::string_view value) {
  if (plain(value)) {
    out.append(value);
    return;
  }
  for (std::size_t i = 0; i < value.size();) {
    const char ch = value[i];
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      if (ch == '\\') out.append("\\\\");
      else if (ch == '"') out.append("\\\"");
      else if (ch == '\n') out.append("\\n");
      else out.push_back(ch);
      ++i;
      continue;
    }
    const std::size_t n = utf8SequenceLength(value, i);
    if (n == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(value.substr(i, n));
      i += n;
    }
  }
}

void appendLabel(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append("=\"");
  appendLabelValue(out, value);
  out.push_back('"');
}

void appendHelp(std::string& out, std::string_view help) {
  for (const char ch : help) {
    if (ch == '\\') out.append("\\\\");
    else if (ch == '\n') out.append("\\n");
    else out.push_back(ch);
  }
}

void appendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  char text[32];
  constexpr double kExact = 9007199254740992.0;  // 2^53: every integer up to it is exact
  std::to_chars_result r;
  if (value == std::trunc(value) && std::fabs(value) <= kExact)
    r = std::to_chars(text, text + sizeof text, static_cast<std::int64_t>(value));
  else r = std::to_chars(text, text + sizeof text, value, std::chars_format::general);
  out.append(text, r.ptr);
}

TextWriter::TextWriter(Sink sink, std::size_t bufferSize)
    : sink_(std::move(sink)), limit_(bufferSize == 0 ? 1 : bufferSize) {
  buffer_.reserve(limit_ + 1024);
}

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  if (!help.empty()) {
    buffer_.append("# HELP ");
    buffer_.append(name);
    buffer_.push_back(' ');
    appendHelp(buffer_, help);
    buffer_.push_back('\n');
  }
  buffer_.append("# TYPE ");
  buffer_.append(name);
  buffer_.push_back(' ');
  buffer_.append(type);
  buffer_.push_back('\n');
  maybeFlush();
}

void TextWriter::sample(std::string_view name, std::string_view labels, double value) {
  buffer_.append(name);
  if (!labels.empty()) {
    buffer_.push_back('{');
    buffer_.append(labels);
    buffer_.push_back('}');
  }
  buffer_.push_back(' ');
  appendValue(buffer_, value);
  buffer_.push_back('\n');
  maybeFlush();
}

void TextWriter::sample(std::string_view name, std::string_view labels, std::string_view extraName,
                        std::string_view extraValue, double value) {
  buffer_.append(name);
  buffer_.push_back('{');
  if (!labels.empty()) {
    buffer_.append(labels);
    buffer_.push_back(',');
  }
  appendLabel(buffer_, extraName, extraValue);
  buffer_.append("} ");
  appendValue(buffer_, value);
  buffer_.push_back('\n');
  maybeFlush();
}

void TextWriter::sample(std::string_view name, std::string_view labels,
                        std::initializer_list<Extra> extra, double value) {
  buffer_.append(name);
  buffer_.push_back('{');
  buffer_.append(labels);
  bool comma = !labels.empty();
  for (const auto& [extraName, extraValue] : extra) {
    if (comma) buffer_.push_back(',');
    appendLabel(buffer_, extraName, extraValue);
    comma = true;
  }
  buffer_.append("} ");
  appendValue(buffer_, value);
  buffer_.push_back('\n');
  maybeFlush();
}

void TextWriter::raw(std::string_view text) {
  while (!text.empty()) {
    const std::size_t room = buffer_.size() < limit_ ? limit_ - buffer_.size() : 0;
    const std::size_t n = std::min(text.size(), std::max<std::size_t>(room, 1));
    buffer_.append(text.substr(0, n));
    text.remove_prefix(n);
    maybeFlush();
  }
}

void TextWriter::flush() {
  if (buffer_.empty()) return;
  if (!failed_ && !sink_(buffer_)) failed_ = true;
  written_ += buffer_.size();
  buffer_.clear();
}

}  // namespace envprobe
