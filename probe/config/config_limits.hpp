#pragma once
// The range of every number and duration in the config, in one place. The loader refuses a value
// outside its range (so nothing overflows further on: c-ares takes its timeout as an int of
// milliseconds, curl its body limit as a long), and config/envprobe.schema.json documents the
// same ranges. A value that fits no realistic deployment is a typo, so the ranges are generous
// but finite.
#include <chrono>
#include <cstdint>

#include "probe/base/core_types.hpp"

namespace envprobe::limits {

using namespace std::chrono_literals;

struct DurationRange {
  Duration min;
  Duration max;
};
struct IntRange {
  int min;
  int max;
};

// defaults.interval and a check's interval: how often a target is probed.
inline constexpr DurationRange kInterval{100ms, 24h};
// defaults.timeout and a check's timeout (also never longer than the interval).
inline constexpr DurationRange kTimeout{10ms, 1h};
// expect.max_duration: the latency budget of one response.
inline constexpr DurationRange kMaxDuration{1ms, 1h};
// dns.timeout: c-ares's per-try timeout, an int of milliseconds.
inline constexpr DurationRange kDnsTimeout{1ms, 1min};
// alerting.resend_interval: Alertmanager resolves alerts not re-sent within its resolve_timeout.
inline constexpr DurationRange kResendInterval{1s, 1h};
// alerting.escalate_after: a non-prod failure escalates after this long.
inline constexpr DurationRange kEscalateAfter{1min, std::chrono::hours(24 * 30)};
// maintenance.max_length, and so the longest window (a window always ends).
inline constexpr DurationRange kMaintenanceMaxLength{1min, std::chrono::hours(24 * 30)};
// maintenance.windows[].duration: positive; its upper bound is max_length.
inline constexpr DurationRange kWindowDuration{1s, std::chrono::hours(24 * 30)};

inline constexpr IntRange kDnsTries{1, 10};
inline constexpr IntRange kMaxInflight{1, 100'000};
inline constexpr IntRange kPort{1, 65535};
inline constexpr IntRange kMaxRedirects{0, 50};
inline constexpr IntRange kThreshold{1, 1000};  // failure_threshold, success_threshold
inline constexpr IntRange kQueueCapacity{1, 10'000'000};
inline constexpr double kJitterMax = 0.5;

inline constexpr std::int64_t kBodyLimitMin = 1;
inline constexpr std::int64_t kBodyLimitMax = std::int64_t{1} << 30;  // 1 GiB

}  // namespace envprobe::limits
