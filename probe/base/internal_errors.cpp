#include "probe/base/internal_errors.hpp"

#include <atomic>
#include <exception>
#include <string>

#include "probe/base/logging.hpp"

namespace envprobe {

namespace {
std::atomic<std::uint64_t> errors{0};
}  // namespace

void reportInternalError(std::string_view where, std::string_view what) noexcept {
  errors.fetch_add(1, std::memory_order_relaxed);
  try {
    logError("internal error", {{"where", std::string(where)}, {"err", std::string(what)}});
  } catch (...) {
    // Logging itself failed (out of memory); the counter still says something went wrong.
  }
}

std::uint64_t internalErrorCount() noexcept { return errors.load(std::memory_order_relaxed); }

}  // namespace envprobe
