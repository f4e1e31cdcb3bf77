#include "probe/base/logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

bool jsonFormat = false;

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

void emit(spdlog::level::level_enum level, std::string_view msg, LogFields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const auto name = spdlog::level::to_string_view(level);
  const std::string_view levelName(name.data(), name.size());
  const std::string line = jsonFormat ? formatJsonLine(timestamp(), levelName, msg, fields)
                                      : formatLogfmtLine(timestamp(), levelName, msg, fields);
  logger->log(level, line);
}

}  // namespace

std::string formatLogfmtLine(std::string_view ts, std::string_view level, std::string_view msg,
                             LogFields fields) {
  std::string line = "ts=" + logfmtValue(ts) + " level=" + logfmtValue(level) +
                     " msg=" + logfmtValue(msg);
  for (const auto& [k, v] : fields) line += " " + logfmtKey(k) + "=" + logfmtValue(v);
  return line;
}

std::string formatJsonLine(std::string_view ts, std::string_view level, std::string_view msg,
                           LogFields fields) {
  nlohmann::ordered_json j;
  j["ts"] = ts;
  j["level"] = level;
  j["msg"] = msg;
  for (const auto& [k, v] : fields) j[makeValidUtf8(k)] = v;
  // replace: invalid UTF-8 in a value becomes U+FFFD instead of an exception.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void setupLogging(const std::string& level, const std::string& format) {
  jsonFormat = format == "json";
  auto logger = spdlog::stderr_logger_mt("envprobe");
  logger->set_pattern("%v");  // lines are formatted whole by emit()
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
}

void logDebug(std::string_view msg, LogFields fields) { emit(spdlog::level::debug, msg, fields); }
void logInfo(std::string_view msg, LogFields fields) { emit(spdlog::level::info, msg, fields); }
void logWarn(std::string_view msg, LogFields fields) { emit(spdlog::level::warn, msg, fields); }
void logError(std::string_view msg, LogFields fields) { emit(spdlog::level::err, msg, fields); }

}  // namespace envprobe
