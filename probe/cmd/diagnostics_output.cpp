#include "probe/cmd/diagnostics_output.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "probe/base/logging.hpp"

namespace envprobe {

namespace {

// "key: message", or the message alone: the diagnostic without its place and severity.
std::string messageOf(const Diagnostic& d) {
  return d.keyPath.empty() ? d.message : d.keyPath + ": " + d.message;
}

// Calls `use` with the diagnostic's fields; a place that is not known is left out.
template <typename Use>
auto withFields(const Diagnostic& d, Use use) {
  const std::string file = d.where.file.empty() ? std::string("<config>") : d.where.file;
  if (d.where.line > 0 && d.where.column > 0)
    return use({{"file", file}, {"line", d.where.line}, {"col", d.where.column}, {"key", d.keyPath}});
  if (d.where.line > 0) return use({{"file", file}, {"line", d.where.line}, {"key", d.keyPath}});
  return use({{"file", file}, {"key", d.keyPath}});
}

}  // namespace

void printDiagnostics(const Diagnostics& diagnostics, std::ostream& err) {
  std::vector<Diagnostic> sorted = diagnostics.items();
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) <
           std::tie(b.where.file, b.where.line, b.where.column);
  });
  const bool json = logFormat() == LogFormat::Json;
  for (const auto& d : sorted) {
    if (!json) {
      err << d.format() << "\n";
      continue;
    }
    const std::string_view level = d.severity == Severity::Error ? "error" : "warning";
    err << withFields(d, [&](LogFields fields) { return formatLogLine(level, messageOf(d), fields); })
        << "\n";
  }
  err.flush();
}

void logDiagnostic(const Diagnostic& d) {
  withFields(d, [&](LogFields fields) {
    if (d.severity == Severity::Error)
      logError(messageOf(d), fields);
    else
      logWarn(messageOf(d), fields);
    return 0;
  });
}

}  // namespace envprobe
