#include "probe/metrics/process_metrics.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

using envprobe::parseBootTime;
using envprobe::parseMaxOpenFiles;
using envprobe::parseProcStat;
using envprobe::ProcessCollector;

namespace {

// A /proc/<pid>/stat line (Linux 6.x, 52 fields) for a process named by comm, with utime 250,
// stime 50, starttime 12345, vsize 104857600 and rss 2560 pages.
std::string statLine(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 2153 0 0 0 250 50 0 0 20 0 7 0 12345 104857600 2560 "
         "18446744073709551615 1 1 0 0 0 0 0 4096 17922 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max open files            1024                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

}  // namespace

TEST_CASE("process metrics: /proc/<pid>/stat fields after the process name", "[process_metrics]") {
  const std::string comm =
      GENERATE(as<std::string>{}, "envprobe", "(a) b)", "x y ) z", ")", "a\nb)", "");
  INFO("comm: \"" << comm << "\"");
  const auto stat = parseProcStat(statLine(comm));
  REQUIRE(stat);
  CHECK(stat->userTicks == 250);
  CHECK(stat->systemTicks == 50);
  CHECK(stat->startTicks == 12345);
  CHECK(stat->virtualBytes == 104857600);
  CHECK(stat->residentPages == 2560);
}

TEST_CASE("process metrics: a stat line without its trailing newline parses", "[process_metrics]") {
  std::string line = statLine("sh");
  line.pop_back();
  CHECK(parseProcStat(line));
}

TEST_CASE("process metrics: malformed /proc/<pid>/stat is refused", "[process_metrics]") {
  const std::string full = statLine("(a) b)");
  const std::string text = GENERATE_COPY(
      std::string(), std::string("4242"), std::string("4242 (envprobe"), std::string("4242 (a) b)"),
      // cut short before rss, and in the middle of the name
      full.substr(0, full.find(" 2560 ")), std::string("4242 (a) b"),
      // a needed field that is not a plain non-negative number
      statLine("sh").replace(statLine("sh").find(" 250 "), 5, " -250 "),
      statLine("sh").replace(statLine("sh").find(" 2560 "), 6, " 25x0 "),
      statLine("sh").replace(statLine("sh").find(" 104857600 "), 11, " 99999999999999999999 "));
  INFO("text: \"" << text << "\"");
  CHECK(parseProcStat(text) == std::nullopt);
}

TEST_CASE("process metrics: the soft limit of Max open files", "[process_metrics]") {
  CHECK(parseMaxOpenFiles(kLimits) == 1024.0);
  CHECK(parseMaxOpenFiles(
            "Max open files            unlimited            unlimited            files\n") ==
        18446744073709551615.0);
  CHECK(parseMaxOpenFiles("Max open files 4096 4096 files") == 4096.0);  // no newline
}

TEST_CASE("process metrics: malformed /proc/<pid>/limits is refused", "[process_metrics]") {
  const std::string text = GENERATE(as<std::string>{}, "", "Limit   Soft Limit\n",
                                    "Max open files\n", "Max open files            \n",
                                    "Max open files            many       many      files\n",
                                    "Max open files            -1         -1        files\n",
                                    "Max open filesystems      1024       1024      files\n",
                                    "Max cpu time              unlimited  unlimited seconds\n");
  INFO("text: \"" << text << "\"");
  CHECK(parseMaxOpenFiles(text) == std::nullopt);
}

TEST_CASE("process metrics: the boot time from /proc/stat", "[process_metrics]") {
  CHECK(parseBootTime("cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5 0 0\nctxt 99\nbtime 1700000000\n"
                      "processes 42\n") == 1700000000u);
  CHECK(parseBootTime("btime 1700000000") == 1700000000u);
  const std::string bad =
      GENERATE(as<std::string>{}, "", "cpu 1 2 3\n", "btime\n", "btime x\n", "btime -5\n",
               "btime 17 00\n", "btimes 1700000000\n", "xbtime 1700000000\n");
  INFO("text: \"" << bad << "\"");
  CHECK(parseBootTime(bad) == std::nullopt);
}

TEST_CASE("process metrics: this process's families and values", "[process_metrics]") {
  const ProcessCollector collector;
  std::map<std::string, prometheus::MetricFamily> byName;
  for (auto& family : collector.Collect()) byName.emplace(family.name, family);

  using prometheus::MetricType;
  const std::map<std::string, MetricType> expected = {
      {"process_cpu_seconds_total", MetricType::Counter},
      {"process_resident_memory_bytes", MetricType::Gauge},
      {"process_virtual_memory_bytes", MetricType::Gauge},
      {"process_open_fds", MetricType::Gauge},
      {"process_max_fds", MetricType::Gauge},
      {"process_start_time_seconds", MetricType::Gauge}};
  CHECK(byName.size() == expected.size());
  for (const auto& [name, type] : expected) {
    INFO("family: " << name);
    REQUIRE(byName.count(name) == 1);
    const auto& family = byName.at(name);
    CHECK(family.type == type);
    CHECK_FALSE(family.help.empty());
    REQUIRE(family.metric.size() == 1);
    CHECK(family.metric[0].label.empty());
  }
  const auto gauge = [&](const std::string& name) { return byName.at(name).metric[0].gauge.value; };
  CHECK(byName.at("process_cpu_seconds_total").metric[0].counter.value >= 0);
  CHECK(gauge("process_resident_memory_bytes") > 0);
  CHECK(gauge("process_virtual_memory_bytes") >= gauge("process_resident_memory_bytes"));
  CHECK(gauge("process_open_fds") > 0);  // stdin, stdout, stderr at least
  CHECK(gauge("process_max_fds") >= gauge("process_open_fds"));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Started before now (within the rounding of btime to whole seconds), not days ago.
  CHECK(gauge("process_start_time_seconds") <= now + 2);
  CHECK(gauge("process_start_time_seconds") > now - 86400);
}
