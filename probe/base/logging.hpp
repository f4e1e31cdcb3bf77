#pragma once
// Structured logging through spdlog, as logfmt or JSON lines on stderr. Field values often carry
// bytes from targets (headers, details): whatever they hold, one call writes exactly one line of
// valid UTF-8, so a target can neither forge log lines nor break a JSON log reader.
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace envprobe {

// One field of a log line: a string, or a number or bool that JSON writes unquoted
// ("targets":12, "duration_seconds":0.25) and logfmt writes bare (targets=12).
// A non-finite double is written as null in JSON and as NaN, +Inf or -Inf in logfmt.
struct LogField {
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v ? v : "")) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  // Integers (not char types, which are text, nor bool, above).
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, signed char> &&
             !std::same_as<T, unsigned char> && !std::same_as<T, wchar_t> &&
             !std::same_as<T, char8_t> && !std::same_as<T, char16_t> &&
             !std::same_as<T, char32_t>)
  LogField(std::string_view k, T v) : key(k) {
    if constexpr (std::is_signed_v<T>)
      value = static_cast<std::int64_t>(v);
    else
      value = static_cast<std::uint64_t>(v);
  }
  template <std::floating_point T>
  LogField(std::string_view k, T v) : key(k), value(static_cast<double>(v)) {}

  std::string_view key;  // points into the caller's storage for the duration of the call
  Value value;
};

using LogFields = std::initializer_list<LogField>;

enum class LogFormat { Logfmt, Json };

void setupLogging(const std::string& level, const std::string& format);
// The format lines are written in (set by setupLogging; logfmt until then).
LogFormat logFormat();
void setLogFormat(LogFormat format);

void logDebug(std::string_view msg, LogFields fields = {});
void logInfo(std::string_view msg, LogFields fields = {});
void logWarn(std::string_view msg, LogFields fields = {});
void logError(std::string_view msg, LogFields fields = {});

// One line in the current format, stamped now, without the newline: for output that must be
// written whatever the log level (config diagnostics) but read like the log.
std::string formatLogLine(std::string_view level, std::string_view msg, LogFields fields);

// Tests: while set, every line that passes the level goes to `sink` instead of stderr.
// Set and clear it while no other thread logs. An empty function restores stderr.
void setLogSinkForTest(std::function<void(std::string_view line)> sink);

// One log line (without the newline), as emitted; pure, for tests.
// logfmt: key=value pairs; a value with a space, '=', '"', '\' or a control character is quoted,
// with \" \\ \n \r \t and \u00XX escapes (C0, DEL and C1 controls); keys keep [A-Za-z0-9_.:-]
// only, any other byte becomes '_'. Invalid UTF-8 becomes U+FFFD. Numbers and bools are bare.
std::string formatLogfmtLine(std::string_view ts, std::string_view level, std::string_view msg,
                             LogFields fields);
// JSON: one object, keys ts, level, msg, then the fields in order; invalid UTF-8 becomes U+FFFD.
// Numbers and bools are JSON numbers and booleans.
std::string formatJsonLine(std::string_view ts, std::string_view level, std::string_view msg,
                           LogFields fields);

}  // namespace envprobe
