#include "probe/base/logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

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

std::string logfmtValue(std::string_view v) {
  const bool quote = v.empty() || v.find_first_of(" =\"\t\n") != std::string_view::npos;
  if (!quote) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void emit(spdlog::level::level_enum level, std::string_view msg, LogFields fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const std::string levelName(spdlog::level::to_string_view(level).data(),
                              spdlog::level::to_string_view(level).size());
  std::string line;
  if (jsonFormat) {
    nlohmann::ordered_json j;
    j["ts"] = timestamp();
    j["level"] = levelName;
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump();
  } else {
    line = "ts=" + timestamp() + " level=" + levelName + " msg=" + logfmtValue(msg);
    for (const auto& [k, v] : fields) line += " " + std::string(k) + "=" + logfmtValue(v);
  }
  logger->log(level, line);
}

}  // namespace

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
