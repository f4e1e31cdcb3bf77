#pragma once
// Structured logging through spdlog, as logfmt or JSON lines on stderr.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace envprobe {

using LogFields = std::initializer_list<std::pair<std::string_view, std::string>>;

void setupLogging(const std::string& level, const std::string& format);
void logDebug(std::string_view msg, LogFields fields = {});
void logInfo(std::string_view msg, LogFields fields = {});
void logWarn(std::string_view msg, LogFields fields = {});
void logError(std::string_view msg, LogFields fields = {});

}  // namespace envprobe
