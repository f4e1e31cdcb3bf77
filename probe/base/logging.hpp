#pragma once
// Structured logging through spdlog, as logfmt or JSON lines on stderr. Field values often carry
// bytes from targets (headers, details): whatever they hold, one call writes exactly one line of
// valid UTF-8, so a target can neither forge log lines nor break a JSON log reader.
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

// One log line (without the newline), as emitted; pure, for tests.
// logfmt: key=value pairs; a value with a space, '=', '"', '\' or a control character is quoted,
// with \" \\ \n \r \t and \u00XX escapes (C0, DEL and C1 controls); keys keep [A-Za-z0-9_.:-]
// only, any other byte becomes '_'. Invalid UTF-8 becomes U+FFFD.
std::string formatLogfmtLine(std::string_view ts, std::string_view level, std::string_view msg,
                             LogFields fields);
// JSON: one object, keys ts, level, msg, then the fields in order; invalid UTF-8 becomes U+FFFD.
std::string formatJsonLine(std::string_view ts, std::string_view level, std::string_view msg,
                           LogFields fields);

}  // namespace envprobe
