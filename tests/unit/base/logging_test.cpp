#include "probe/base/logging.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "probe/base/utf8.hpp"

using envprobe::formatJsonLine;
using envprobe::formatLogfmtLine;
using envprobe::isValidUtf8;

namespace {

const std::string kTs = "2026-01-02T03:04:05.678Z";

bool hasControlByte(const std::string& line) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("logfmt: plain values stay bare, others are quoted", "[logging]") {
  CHECK(formatLogfmtLine(kTs, "info", "starting", {{"version", "0.1.0"}}) ==
        "ts=" + kTs + " level=info msg=starting version=0.1.0");
  CHECK(formatLogfmtLine(kTs, "warn", "two words", {{"k", ""}, {"q", "a=b"}, {"s", "say \"hi\""}}) ==
        "ts=" + kTs + " level=warn msg=\"two words\" k=\"\" q=\"a=b\" s=\"say \\\"hi\\\"\"");
  CHECK(formatLogfmtLine(kTs, "info", "m", {{"path", "C:\\dir"}}) ==
        "ts=" + kTs + " level=info msg=m path=\"C:\\\\dir\"");
}

TEST_CASE("logfmt: a value cannot start a new line or hide control bytes", "[logging]") {
  const std::string line = formatLogfmtLine(
      kTs, "info", "m",
      {{"detail", "ok\nts=2026 level=error msg=forged"}, {"cr", "a\rb"}, {"tab", "a\tb"},
       {"nul", std::string("a\0b", 3)}, {"esc", "\x1b[31mred"}, {"del", "a\x7f"},
       {"c1", "a\xC2\x9b" "b"}});
  CHECK(line ==
        "ts=" + kTs + " level=info msg=m detail=\"ok\\nts=2026 level=error msg=forged\" "
        "cr=\"a\\rb\" tab=\"a\\tb\" nul=\"a\\u0000b\" esc=\"\\u001b[31mred\" del=\"a\\u007f\" "
        "c1=\"a\\u009bb\"");
  CHECK_FALSE(hasControlByte(line));
}

TEST_CASE("logfmt: the message is escaped like any value", "[logging]") {
  const std::string line = formatLogfmtLine(kTs, "info", "a\nb", {});
  CHECK(line == "ts=" + kTs + " level=info msg=\"a\\nb\"");
}

TEST_CASE("logfmt: keys cannot break the line", "[logging]") {
  const std::string line =
      formatLogfmtLine(kTs, "info", "m", {{"bad key=\"x\"\n", "v"}, {"", "w"}, {"ok.key_1-a:b", "z"}});
  CHECK(line == "ts=" + kTs + " level=info msg=m bad_key__x__=v _=w ok.key_1-a:b=z");
}

TEST_CASE("logfmt: invalid UTF-8 becomes U+FFFD, valid UTF-8 stays", "[logging]") {
  const std::string line =
      formatLogfmtLine(kTs, "info", "m", {{"server", "caf\xE9/1.0"}, {"name", "caf\xC3\xA9"}});
  CHECK(line == "ts=" + kTs + " level=info msg=m server=caf\xEF\xBF\xBD/1.0 name=caf\xC3\xA9");
  CHECK(isValidUtf8(line));
}

TEST_CASE("json log: invalid bytes never throw and the line parses back", "[logging]") {
  std::string line;
  REQUIRE_NOTHROW(line = formatJsonLine(
                      kTs, "debug", "probe failed\xFF",
                      {{"detail", "header Server: \"caf\xE9/1.0\" does not match"},
                       {"nul", std::string("a\0b\n", 4)},
                       {"bad\xC0key", "v"}}));
  CHECK(isValidUtf8(line));
  CHECK(line.find('\n') == std::string::npos);
  CHECK_FALSE(hasControlByte(line));
  const auto j = nlohmann::json::parse(line);
  CHECK(j["ts"] == kTs);
  CHECK(j["level"] == "debug");
  CHECK(j["msg"] == "probe failed\xEF\xBF\xBD");
  CHECK(j["detail"] == "header Server: \"caf\xEF\xBF\xBD/1.0\" does not match");
  CHECK(j["nul"] == std::string("a\0b\n", 4));
  CHECK(j["bad\xEF\xBF\xBDkey"] == "v");
}

TEST_CASE("json log: fields follow ts, level, msg in order", "[logging]") {
  CHECK(formatJsonLine(kTs, "info", "starting", {{"version", "0.1.0"}, {"a", "b"}}) ==
        "{\"ts\":\"" + kTs + "\",\"level\":\"info\",\"msg\":\"starting\",\"version\":\"0.1.0\",\"a\":\"b\"}");
}

TEST_CASE("logfmt: numbers and bools are written bare", "[logging]") {
  const std::string line = formatLogfmtLine(
      kTs, "info", "m",
      {{"targets", 12}, {"queued", std::size_t{3}}, {"delta", -7L}, {"d", 0.25}, {"f", 1.5F},
       {"whole", 2.0}, {"tiny", 1e-9}, {"max", std::numeric_limits<std::uint64_t>::max()},
       {"ok", true}, {"no", false}});
  CHECK(line == "ts=" + kTs +
                    " level=info msg=m targets=12 queued=3 delta=-7 d=0.25 f=1.5 whole=2 tiny=1e-09 "
                    "max=18446744073709551615 ok=true no=false");
}

TEST_CASE("logfmt: non-finite doubles are NaN, +Inf, -Inf", "[logging]") {
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(formatLogfmtLine(kTs, "info", "m",
                         {{"a", std::numeric_limits<double>::quiet_NaN()}, {"b", inf}, {"c", -inf}}) ==
        "ts=" + kTs + " level=info msg=m a=NaN b=+Inf c=-Inf");
}

TEST_CASE("logfmt: text that looks like a number stays text, char is text", "[logging]") {
  const std::string_view view = "view";
  const char* pointer = "ptr";
  CHECK(formatLogfmtLine(kTs, "info", "m", {{"s", std::string("12")}, {"v", view}, {"p", pointer}}) ==
        "ts=" + kTs + " level=info msg=m s=12 v=view p=ptr");
  const char* none = nullptr;
  CHECK(formatLogfmtLine(kTs, "info", "m", {{"n", none}}) == "ts=" + kTs + " level=info msg=m n=\"\"");
}

TEST_CASE("json log: numbers are JSON numbers, strings stay strings", "[logging]") {
  const std::string line = formatJsonLine(
      kTs, "info", "starting",
      {{"targets", 12}, {"duration_seconds", 0.25}, {"delta", -7}, {"ok", true},
       {"max", std::numeric_limits<std::uint64_t>::max()}, {"text", "12"}});
  CHECK(line == "{\"ts\":\"" + kTs +
                    "\",\"level\":\"info\",\"msg\":\"starting\",\"targets\":12,"
                    "\"duration_seconds\":0.25,\"delta\":-7,\"ok\":true,"
                    "\"max\":18446744073709551615,\"text\":\"12\"}");
  const auto j = nlohmann::json::parse(line);
  CHECK(j["targets"].is_number_integer());
  CHECK(j["duration_seconds"].is_number_float());
  CHECK(j["text"].is_string());
}

TEST_CASE("json log: non-finite doubles become null, the line stays valid JSON", "[logging]") {
  const double inf = std::numeric_limits<double>::infinity();
  const std::string line = formatJsonLine(
      kTs, "info", "m", {{"a", std::numeric_limits<double>::quiet_NaN()}, {"b", inf}, {"c", -inf}});
  CHECK(line == "{\"ts\":\"" + kTs + "\",\"level\":\"info\",\"msg\":\"m\",\"a\":null,\"b\":null,\"c\":null}");
  CHECK_NOTHROW(nlohmann::json::parse(line));
}

TEST_CASE("log lines reach the test sink in the chosen format", "[logging]") {
  std::vector<std::string> lines;
  envprobe::setLogSinkForTest([&](std::string_view line) { lines.emplace_back(line); });
  const auto before = envprobe::logFormat();
  envprobe::setLogFormat(envprobe::LogFormat::Json);
  envprobe::logInfo("hello", {{"n", 3}});
  envprobe::logDebug("hidden at the default level");
  envprobe::setLogFormat(envprobe::LogFormat::Logfmt);
  envprobe::logWarn("careful", {{"d", 0.5}});
  envprobe::setLogFormat(before);
  envprobe::setLogSinkForTest(nullptr);
  REQUIRE(lines.size() == 2);
  const auto j = nlohmann::json::parse(lines[0]);
  CHECK(j["msg"] == "hello");
  CHECK(j["level"] == "info");
  CHECK(j["n"] == 3);
  CHECK(lines[1].find(" level=warning msg=careful d=0.5") != std::string::npos);
  CHECK(envprobe::formatLogLine("error", "m", {{"k", 1}}).ends_with(" level=error msg=m k=1"));
}
