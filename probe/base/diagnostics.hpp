#pragma once
// Config diagnostics: every problem found while loading or auditing a config, with where it is.
#include <string>
#include <vector>

namespace envprobe {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
};

enum class Severity { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLocation where;
  std::string keyPath;  // e.g. services[1].checks[0].http.expect.status
  std::string message;

  // "file:line:col: error: services[1].name: message"
  std::string format() const;
};

class Diagnostics {
 public:
  void error(const SourceLocation& where, std::string keyPath, std::string message);
  void warning(const SourceLocation& where, std::string keyPath, std::string message);
  bool hasErrors() const;
  std::size_t errorCount() const;
  std::size_t warningCount() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  void append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace envprobe
