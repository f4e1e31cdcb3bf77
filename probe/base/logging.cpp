#include "probe/base/logging.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

std::atomic<LogFormat> currentFormat{LogFormat::Logfmt};
std::function<void(std::string_view)> testSink;

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

bool isControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

void appendUnicodeEscape(std::string& out, unsigned code) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", code);
  out += buf;
}

std::string logfmtValue(std::string_view raw) {
  const std::string v = makeValidUtf8(raw);
  bool quote = v.empty();
  for (std::size_t i = 0; i < v.size() && !quote; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    // 0xC2 0x80..0x9F: a C1 control, which some terminals act on.
    quote = c == ' ' || c == '=' || c == '"' || c == '\\' || isControl(c) ||
            (c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) < 0xA0);
  }
  if (!quote) return v;
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (isControl(c)) {
          appendUnicodeEscape(out, c);
        } else if (c == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) < 0xA0) {
          appendUnicodeEscape(out, static_cast<unsigned char>(v[++i]));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Keys come from code, but nothing is lost by making sure: a key can never split or quote a line.
std::string logfmtKey(std::string_view k) {
  if (k.empty()) return "_";
  std::string out(k);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

// A number as text: integers in full, doubles in their shortest round-trip form.
std::string numberText(const LogField::Value& value) {
  char buf[64];
  std::to_chars_result r{};
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    r = std::to_chars(buf, buf + sizeof buf, *i);
  } else if (const auto* u = std::get_if<std::uint64_t>(&value)) {
    r = std::to_chars(buf, buf + sizeof buf, *u);
  } else {
    const double d = std::get<double>(value);
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
    r = std::to_chars(buf, buf + sizeof buf, d);
  }
  return std::string(buf, r.ptr);
}

std::string logfmtField(const LogField::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return logfmtValue(*s);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  return numberText(value);
}

nlohmann::ordered_json jsonField(const LogField::Value& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::ordered_json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(v)) return nullptr;  // JSON has no NaN or Infinity
        }
        return v;
      },
      value);
}

void emit(spdlog::level::level_enum level, std::string_view msg, LogFields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const auto name = spdlog::level::to_string_view(level);
  const std::string line = formatLogLine(std::string_view(name.data(), name.size()), msg, fields);
  if (testSink) {
    testSink(line);
    return;
  }
  logger->log(level, line);
}

}  // namespace

std::string formatLogfmtLine(std::string_view ts, std::string_view level, std::string_view msg,
                             LogFields fields) {
  std::string line = "ts=" + logfmtValue(ts) + " level=" + logfmtValue(level) +
                     " msg=" + logfmtValue(msg);
  for (const auto& f : fields) line += " " + logfmtKey(f.key) + "=" + logfmtField(f.value);
  return line;
}

std::string formatJsonLine(std::string_view ts, std::string_view level, std::string_view msg,
                           LogFields fields) {
  nlohmann::ordered_json j;
  j["ts"] = ts;
  j["level"] = level;
  j["msg"] = msg;
  for (const auto& f : fields) j[makeValidUtf8(f.key)] = jsonField(f.value);
  // replace: invalid UTF-8 in a value becomes U+FFFD instead of an exception.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void setupLogging(const std::string& level, const std::string& format) {
  setLogFormat(format == "json" ? LogFormat::Json : LogFormat::Logfmt);
  auto logger = spdlog::stderr_logger_mt("envprobe");
  logger->set_pattern("%v");  // lines are formatted whole by emit()
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
}

LogFormat logFormat() { return currentFormat.load(std::memory_order_relaxed); }

void setLogFormat(LogFormat format) { currentFormat.store(format, std::memory_order_relaxed); }

std::string formatLogLine(std::string_view level, std::string_view msg, LogFields fields) {
  return logFormat() == LogFormat::Json ? formatJsonLine(timestamp(), level, msg, fields)
                                        : formatLogfmtLine(timestamp(), level, msg, fields);
}

void setLogSinkForTest(std::function<void(std::string_view line)> sink) {
  testSink = std::move(sink);
}

void logDebug(std::string_view msg, LogFields fields) { emit(spdlog::level::debug, msg, fields); }
void logInfo(std::string_view msg, LogFields fields) { emit(spdlog::level::info, msg, fields); }
void logWarn(std::string_view msg, LogFields fields) { emit(spdlog::level::warn, msg, fields); }
void logError(std::string_view msg, LogFields fields) { emit(spdlog::level::err, msg, fields); }

}  // namespace envprobe
