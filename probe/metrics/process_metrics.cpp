#include "probe/metrics/process_metrics.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <utility>

namespace envprobe {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The next whitespace-separated word of text from pos on; empty at the end.
std::string_view nextWord(std::string_view text, std::size_t& pos) {
  while (pos < text.size() && isBlank(text[pos])) ++pos;
  const std::size_t start = pos;
  while (pos < text.size() && !isBlank(text[pos])) ++pos;
  return text.substr(start, pos - start);
}

// A whole word of decimal digits; no sign, no trailing bytes, no overflow.
std::optional<std::uint64_t> toUnsigned(std::string_view word) {
  std::uint64_t value = 0;
  const char* end = word.data() + word.size();
  auto [ptr, ec] = std::from_chars(word.data(), end, value);
  if (word.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Each line of text in turn, without its '\n'; false from fn stops the walk.
template <typename Fn>
void forEachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    if (!fn(text.substr(0, eol))) return;
    if (eol == std::string_view::npos) return;
    text.remove_prefix(eol + 1);
  }
}

// The whole content of a /proc file (whose size reads as 0, so read until the end).
std::optional<std::string> readProcFile(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      ::close(fd);
      return std::nullopt;
    }
  }
  ::close(fd);
  return text;
}

// Entries of /proc/self/fd, less the one this count opens to read the directory itself.
std::optional<double> countOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  const std::string own = std::to_string(::dirfd(dir));
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != ".." && name != own) ++count;
  }
  ::closedir(dir);
  return count;
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  f.metric.push_back(std::move(metric));
  return f;
}

double positiveOr(long value, double fallback) {
  return value > 0 ? static_cast<double>(value) : fallback;
}

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  // "pid (comm) state ppid ...": after the last ')' come fields 3, 4, ... in order.
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(close + 1);
  std::size_t pos = 0;
  ProcStat stat;
  std::uint64_t* wanted[25] = {};  // by field number
  wanted[14] = &stat.userTicks;
  wanted[15] = &stat.systemTicks;
  wanted[22] = &stat.startTicks;
  wanted[23] = &stat.virtualBytes;
  wanted[24] = &stat.residentPages;
  for (int field = 3; field <= 24; ++field) {
    const std::string_view word = nextWord(rest, pos);
    if (word.empty()) return std::nullopt;
    if (!wanted[field]) continue;
    const auto value = toUnsigned(word);
    if (!value) return std::nullopt;
    *wanted[field] = *value;
  }
  return stat;
}

std::optional<double> parseMaxOpenFiles(std::string_view text) {
  // "Max open files            1024                 524288               files"
  constexpr std::string_view kName = "Max open files";
  std::optional<double> soft;
  forEachLine(text, [&](std::string_view line) {
    if (!line.starts_with(kName)) return true;
    std::size_t pos = kName.size();
    if (pos >= line.size() || !isBlank(line[pos])) return true;  // another limit's name
    const std::string_view word = nextWord(line, pos);
    if (word == "unlimited") {
      soft = 18446744073709551615.0;
    } else if (const auto value = toUnsigned(word)) {
      soft = static_cast<double>(*value);
    }
    return false;
  });
  return soft;
}

std::optional<std::uint64_t> parseBootTime(std::string_view text) {
  constexpr std::string_view kKey = "btime";
  std::optional<std::uint64_t> boot;
  forEachLine(text, [&](std::string_view line) {
    std::size_t pos = 0;
    if (nextWord(line, pos) != kKey || pos != kKey.size()) return true;
    boot = toUnsigned(nextWord(line, pos));
    if (boot && !nextWord(line, pos).empty()) boot.reset();
    return false;
  });
  return boot;
}

ProcessCollector::ProcessCollector()
    : ticksPerSecond_(positiveOr(::sysconf(_SC_CLK_TCK), 100)),
      pageBytes_(positiveOr(::sysconf(_SC_PAGESIZE), 4096)) {
  const auto statText = readProcFile("/proc/self/stat");
  const auto bootText = readProcFile("/proc/stat");
  if (!statText || !bootText) return;
  const auto stat = parseProcStat(*statText);
  const auto boot = parseBootTime(*bootText);
  if (stat && boot)
    startTimeSeconds_ =
        static_cast<double>(*boot) + static_cast<double>(stat->startTicks) / ticksPerSecond_;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  families.reserve(6);
  std::optional<ProcStat> stat;
  if (const auto text = readProcFile("/proc/self/stat")) stat = parseProcStat(*text);
  if (stat)
    families.push_back(
        family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::Counter,
               (static_cast<double>(stat->userTicks) + static_cast<double>(stat->systemTicks)) /
                   ticksPerSecond_));
  if (const auto open = countOpenFds())
    families.push_back(
        family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *open));
  std::optional<double> maxFds;
  if (const auto text = readProcFile("/proc/self/limits")) maxFds = parseMaxOpenFiles(*text);
  if (maxFds)
    families.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *maxFds));
  if (stat) {
    families.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, static_cast<double>(stat->virtualBytes)));
    families.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge,
                              static_cast<double>(stat->residentPages) * pageBytes_));
  }
  if (startTimeSeconds_)
    families.push_back(family("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge, *startTimeSeconds_));
  return families;
}

}  // namespace envprobe
