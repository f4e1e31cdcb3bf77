#include "probe/base/diagnostics.hpp"

#include <algorithm>

namespace envprobe {

std::string Diagnostic::format() const {
  std::string out = where.file.empty() ? std::string("<config>") : where.file;
  if (where.line > 0) {
    out += ":" + std::to_string(where.line);
    if (where.column > 0) out += ":" + std::to_string(where.column);
  }
  out += severity == Severity::Error ? ": error: " : ": warning: ";
  if (!keyPath.empty()) out += keyPath + ": ";
  out += message;
  return out;
}

void Diagnostics::error(const SourceLocation& where, std::string keyPath, std::string message) {
  items_.push_back({Severity::Error, where, std::move(keyPath), std::move(message)});
}

void Diagnostics::warning(const SourceLocation& where, std::string keyPath, std::string message) {
  items_.push_back({Severity::Warning, where, std::move(keyPath), std::move(message)});
}

bool Diagnostics::hasErrors() const { return errorCount() > 0; }

std::size_t Diagnostics::errorCount() const {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [](const Diagnostic& d) { return d.severity == Severity::Error; }));
}

std::size_t Diagnostics::warningCount() const { return items_.size() - errorCount(); }

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

}  // namespace envprobe
