#pragma once
// Config diagnostics for the operator, in the log's format: with --log.format=json each one is a
// JSON log line {"ts","level":"error"|"warning","msg":"key: message","file","line","col","key"}
// that a log pipeline can read (line and col left out when not known); otherwise the human
// "file:line:col: error: key: message" lines that editors and terminals understand.
#include <ostream>

#include "probe/base/diagnostics.hpp"

namespace envprobe {

// Every diagnostic, in file/line/column order (the order of one file's problems kept), one line
// each, whatever the log level: a config error is never filtered away.
void printDiagnostics(const Diagnostics& diagnostics, std::ostream& err);

// One diagnostic through the log (error or warning level), with file/line/col/key fields.
void logDiagnostic(const Diagnostic& diagnostic);

}  // namespace envprobe
