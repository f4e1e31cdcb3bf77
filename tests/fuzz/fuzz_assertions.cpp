// Arbitrary response bytes judged by HttpAssertions with a fixed set of expectations. The input
// is read as a response: two bytes of status code, two of duration (milliseconds), then header
// lines ("Name: value") up to the first empty line, then the body. Whatever a server sends, the
// evaluation must not crash, must stay within its regex and JSON limits, and every failure must
// carry a printable detail (details end up in logs and alert texts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "checks/assertions.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace envprobe;

Observation observationFrom(const std::uint8_t* data, std::size_t size) {
  Observation o;
  if (size >= 2) o.statusCode = (data[0] << 8 | data[1]) % 1000;
  if (size >= 4) o.durationSeconds = (data[2] << 8 | data[3]) / 1000.0;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  rest.remove_prefix(std::min<std::size_t>(size, 4));
  const std::size_t blank = rest.find("\n\n");
  std::string_view head = rest.substr(0, blank);
  o.body = blank == std::string_view::npos ? std::string() : std::string(rest.substr(blank + 2));
  while (!head.empty()) {
    const std::size_t eol = head.find('\n');
    const std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    o.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return o;
}

std::vector<HttpAssertions> expectationSets() {
  HttpExpect statusAndJson;
  statusAndJson.status = {{200, 204}, {301, 302}, {404, 404}};
  statusAndJson.json = {{"status", "UP"},    {"build.env", "{env}"},
                        {"items.0.id", "1"}, {"items.1", "{\"a\":[1,2]}"},
                        {"", "{}"},          {"deep.deeper.deepest.0.0", "true"}};

  HttpExpect bodyText;
  bodyText.status = {{0, 999}};
  bodyText.bodyContains = {"ok", "{env}-ready"};
  bodyText.bodyNotContains = {"error", "\xff\xfe"};
  bodyText.bodyRegex = {"(?i)version[=:]\\s*\\d+\\.\\d+", "^[[:print:]\\s]*$", "(a+)+b"};

  HttpExpect headerRules;
  headerRules.status = {{100, 599}};
  headerRules.headers = {{"Content-Type", "(?i)application/json(;.*)?"},
                         {"X-Env", "at|prod|\\{env\\}"},
                         {"server", ".*"},
                         {"Cache-Control", "(no-cache|max-age=\\d{1,9})"}};
  headerRules.maxDuration = envprobe::Duration(250);

  HttpExpect invalid;  // patterns RE2 refuses: a failing step, never an exception
  invalid.status = {{0, 999}};
  invalid.bodyRegex = {"(unclosed"};
  invalid.headers = {{"X-Any", "[z-a]"}};

  HttpExpect defaults;  // no expectations at all: 200-299 and nothing else

  std::vector<HttpAssertions> sets;
  for (const HttpExpect* expect : {&statusAndJson, &bodyText, &headerRules, &invalid, &defaults})
    sets.emplace_back(*expect, "at");
  return sets;
}

bool printable(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<HttpAssertions> sets = expectationSets();
  const Observation observation = observationFrom(data, size);
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const Verdict verdict = sets[i].evaluate(observation);
    if (verdict.ok) {
      FUZZ_CHECK(verdict.reason == Reason::None && !verdict.failedDueToRegex,
                 "set %zu: a passing verdict with a reason", i);
    } else {
      FUZZ_CHECK(verdict.reason != Reason::None, "set %zu: a failing verdict without a reason", i);
      FUZZ_CHECK(!verdict.detail.empty(), "set %zu: a failing verdict without a detail", i);
      FUZZ_CHECK(printable(verdict.detail),
                 "set %zu: detail with a control character: %s", i, verdict.detail.c_str());
    }
  }
  return 0;
}
