// Config diagnostics in the log's format: human lines for logfmt, JSON log lines for json.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "probe/base/logging.hpp"
#include "probe/cmd/diagnostics_output.hpp"

using namespace envprobe;

namespace {

struct FormatFor {
  LogFormat before = logFormat();
  explicit FormatFor(LogFormat f) { setLogFormat(f); }
  ~FormatFor() { setLogFormat(before); }
};

Diagnostics sample() {
  Diagnostics d;
  d.warning({"at.yaml", 9, 3}, "services[0].checks", "no checks");
  d.error({"at.yaml", 4, 7}, "services[0].bogus", "unknown key \"bogus\"");
  d.error({"services.yaml", 0, 0}, "", "cannot read the file");
  return d;
}

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("diagnostics: logfmt keeps the human lines, in file and line order", "[diagnostics_output]") {
  FormatFor logfmt(LogFormat::Logfmt);
  std::ostringstream err;
  printDiagnostics(sample(), err);
  CHECK(err.str() ==
        "at.yaml:4:7: error: services[0].bogus: unknown key \"bogus\"\n"
        "at.yaml:9:3: warning: services[0].checks: no checks\n"
        "services.yaml: error: cannot read the file\n");
}

TEST_CASE("diagnostics: json prints one JSON log line each, with file, line, col", "[diagnostics_output]") {
  FormatFor json(LogFormat::Json);
  std::ostringstream err;
  printDiagnostics(sample(), err);
  const auto lines = linesOf(err.str());
  REQUIRE(lines.size() == 3);
  std::vector<nlohmann::json> j;
  for (const auto& line : lines) j.push_back(nlohmann::json::parse(line));

  CHECK(j[0]["level"] == "error");
  CHECK(j[0]["msg"] == "services[0].bogus: unknown key \"bogus\"");
  CHECK(j[0]["file"] == "at.yaml");
  CHECK(j[0]["line"] == 4);
  CHECK(j[0]["col"] == 7);
  CHECK(j[0]["key"] == "services[0].bogus");
  CHECK(j[0]["ts"].is_string());

  CHECK(j[1]["level"] == "warning");
  CHECK(j[1]["line"] == 9);
  CHECK(j[1]["col"] == 3);

  // An unknown place is left out rather than given as 0.
  CHECK(j[2]["msg"] == "cannot read the file");
  CHECK(j[2]["file"] == "services.yaml");
  CHECK_FALSE(j[2].contains("line"));
  CHECK_FALSE(j[2].contains("col"));
}

TEST_CASE("diagnostics: logDiagnostic logs at error or warning level with the place", "[diagnostics_output]") {
  FormatFor json(LogFormat::Json);
  std::vector<std::string> lines;
  setLogSinkForTest([&](std::string_view line) { lines.emplace_back(line); });
  const Diagnostics diagnostics = sample();
  for (const auto& d : diagnostics.items()) logDiagnostic(d);
  setLogSinkForTest(nullptr);
  REQUIRE(lines.size() == 3);
  const auto warning = nlohmann::json::parse(lines[0]);
  CHECK(warning["level"] == "warning");
  CHECK(warning["file"] == "at.yaml");
  CHECK(warning["line"] == 9);
  const auto error = nlohmann::json::parse(lines[1]);
  CHECK(error["level"] == "error");
  CHECK(error["col"] == 7);
  CHECK(error["key"] == "services[0].bogus");
}
