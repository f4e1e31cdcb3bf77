#pragma once
// Durations as operators write them: "500ms", "30s", "2m", "1h", "1h30m".
#include <optional>
#include <string>

#include "probe/base/core_types.hpp"

namespace envprobe {

// nullopt when the text is not a duration. Zero and negative values are rejected by callers.
std::optional<Duration> parseDuration(const std::string& text);
std::string formatDuration(Duration d);  // "30s", "1m30s", "500ms"

// Sizes: "1MiB", "512KiB", "1000" (bytes). nullopt when malformed.
std::optional<long long> parseByteSize(const std::string& text);

}  // namespace envprobe
