#pragma once
// The catch-log-continue boundary's bookkeeping: every event-loop callback and HTTP handler that
// catches an exception it did not expect reports it here, so it is logged and counted
// (envprobe_internal_errors_total) instead of taking the agent down.
#include <cstdint>
#include <string_view>

namespace envprobe {

// Thread-safe. `where` names the boundary ("event loop timer", "GET /metrics", ...).
void reportInternalError(std::string_view where, std::string_view what) noexcept;
std::uint64_t internalErrorCount() noexcept;

// Runs `fn`; an exception escaping it is reported under `where` and swallowed.
template <typename Fn>
void guarded(std::string_view where, Fn&& fn) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    reportInternalError(where, e.what());
  } catch (...) {
    reportInternalError(where, "unknown exception");
  }
}

}  // namespace envprobe
