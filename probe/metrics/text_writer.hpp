#pragma once
// The Prometheus text exposition format (version 0.0.4), written into one reused buffer that is
// handed to a sink each time it fills: a scrape of any size holds one buffer, never the body.
//
// Label values are escaped (backslash, double quote, newline) and made valid UTF-8 (each
// invalid byte becomes U+FFFD), since a value from a target (a certificate subject, a version a
// response named) could otherwise break the whole scrape. HELP text escapes backslash and
// newline. Numbers: integers (exact ones, |v| <= 2^53) without exponent, other values in the
// shortest form that reads back the same (std::to_chars), NaN and +Inf/-Inf as Prometheus
// spells them.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace envprobe {

// Appends `value` escaped for a label value (without the quotes).
void appendLabelValue(std::string& out, std::string_view value);
// Appends `name="value"`, escaped.
void appendLabel(std::string& out, std::string_view name, std::string_view value);
// Appends HELP text, escaped.
void appendHelp(std::string& out, std::string_view help);
// Appends a sample value.
void appendValue(std::string& out, double value);

class TextWriter {
 public:
  // Takes each full buffer; false when the reader is gone (writing stops: failed()).
  using Sink = std::function<bool(std::string_view bytes)>;
  static constexpr std::size_t kBufferSize = 64 * 1024;

  explicit TextWriter(Sink sink, std::size_t bufferSize = kBufferSize);
  TextWriter(const TextWriter&) = delete;
  TextWriter& operator=(const TextWriter&) = delete;

  // `# HELP` (when help is not empty) and `# TYPE` lines; type: "gauge", "counter", ...
  void family(std::string_view name, std::string_view help, std::string_view type);
  // name{labels} value: `labels` is already formatted text (a="b",c="d"), may be empty.
  void sample(std::string_view name, std::string_view labels, double value);
  // name{labels,extraName="extraValue"} value
  void sample(std::string_view name, std::string_view labels, std::string_view extraName,
              std::string_view extraValue, double value);
  // name{labels,n1="v1",n2="v2",...} value
  using Extra = std::pair<std::string_view, std::string_view>;
  void sample(std::string_view name, std::string_view labels, std::initializer_list<Extra> extra,
              double value);
  // Text already in the format (e.g. from prometheus::TextSerializer).
  void raw(std::string_view text);
  // Hands what is buffered to the sink (also when the buffer is not full).
  void flush();

  bool failed() const { return failed_; }
  std::uint64_t bytesWritten() const { return written_ + buffer_.size(); }

 private:
  void maybeFlush() {
    if (buffer_.size() >= limit_) flush();
  }

  Sink sink_;
  std::size_t limit_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  bool failed_ = false;
};

}  // namespace envprobe
