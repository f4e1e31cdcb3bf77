#pragma once
// The standard process_* metrics of every Prometheus exporter (the Go client's process
// collector), read from /proc: CPU time, resident and virtual memory, open and maximum file
// descriptors, start time. prometheus-cpp 1.x has no such collector.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace envprobe {

// The fields of /proc/<pid>/stat the process metrics need, in the kernel's units.
struct ProcStat {
  std::uint64_t userTicks = 0;      // utime (field 14), clock ticks
  std::uint64_t systemTicks = 0;    // stime (field 15), clock ticks
  std::uint64_t startTicks = 0;     // starttime (field 22), clock ticks after boot
  std::uint64_t virtualBytes = 0;   // vsize (field 23), bytes
  std::uint64_t residentPages = 0;  // rss (field 24), pages
};

// The text of /proc/<pid>/stat. The process name (field 2) may hold spaces and ')', so the
// fields are counted from after the last ')'. std::nullopt when the text is cut short or a
// needed field is not a number.
std::optional<ProcStat> parseProcStat(std::string_view text);

// The soft limit of "Max open files" in the text of /proc/<pid>/limits; "unlimited" is
// 2^64-1, as the Go client reports it. std::nullopt when the line is missing or malformed.
std::optional<double> parseMaxOpenFiles(std::string_view text);

// The boot time (the "btime" line, seconds since the epoch) in the text of /proc/stat.
std::optional<std::uint64_t> parseBootTime(std::string_view text);

// Collects the six process_* families for this process. A value that cannot be read is left
// out of the scrape (its family is omitted); Collect never throws for what /proc holds.
// Collect keeps no mutable state, so concurrent scrapes are safe.
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double ticksPerSecond_;
  double pageBytes_;
  // The start time does not change: /proc/stat is read once, here, not on every scrape.
  std::optional<double> startTimeSeconds_;
};

}  // namespace envprobe
