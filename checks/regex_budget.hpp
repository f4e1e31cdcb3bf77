#pragma once
// The one budget for operators' regexes (body_regex, expect.headers): the RE2 options every
// compile uses and the largest program accepted. The config loader refuses a pattern over the
// budget at load time; the assertions compile with the same options, so what loads is what runs.
//
// Why a program-size limit: RE2 matches in time linear in the input, but the factor is the
// compiled program. When its DFA outgrows max_mem, RE2 falls back to the NFA, whose cost per
// input byte grows with the program: `a.{1000}b` (8006 instructions) takes about 0.35 s per
// 1 MiB body, and far longer on a crafted one. Realistic patterns stay well below the limit:
//   (?i)<title>Shop.*</title>          33     [0-9a-f]{40}                     84
//   [0-9a-f]{8}-...-[0-9a-f]{12}      72     \p{L}+                         1198
//   (?i)<title>[^<]{0,200}</title>  1819     a.{1000}b (refused)            8006
#include <re2/re2.h>

#include <cstdint>
#include <optional>
#include <string>

namespace envprobe {

// RE2's memory budget per compiled pattern (program and DFA cache together).
inline constexpr std::int64_t kRegexMaxMemBytes = 8 << 20;
// Most instructions a compiled pattern may have.
inline constexpr int kRegexMaxProgramSize = 2000;

// The options every operator regex is compiled with. Quiet: a bad pattern is reported through
// diagnostics or the verdict, never on stderr.
inline re2::RE2::Options regexOptions() {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kRegexMaxMemBytes);
  return options;
}

// nullopt when `pattern` compiles within the budget; otherwise why not, in words for an operator.
inline std::optional<std::string> regexBudgetError(const std::string& pattern) {
  const re2::RE2 re(pattern, regexOptions());
  if (!re.ok()) {
    if (re.error_code() == re2::RE2::ErrorPatternTooLarge)
      return "pattern too large: it does not compile within RE2's memory budget of " +
             std::to_string(kRegexMaxMemBytes >> 20) +
             " MiB; use shorter repetitions like {n} with a small n";
    return "invalid regex: " + re.error();
  }
  if (re.ProgramSize() > kRegexMaxProgramSize)
    return "pattern too costly: it compiles to " + std::to_string(re.ProgramSize()) +
           " RE2 instructions, more than the limit of " + std::to_string(kRegexMaxProgramSize) +
           ", and would take seconds per large body; use shorter repetitions like {n} with a "
           "small n, or .* instead of .{n}";
  return std::nullopt;
}

}  // namespace envprobe
