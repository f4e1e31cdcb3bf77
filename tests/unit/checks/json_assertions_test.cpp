// JSON expectations on hostile and large bodies: nesting limits, big arrays, path matching and
// the text values are compared by.
#include <catch2/catch.hpp>
#include <string>

#include "checks/assertions.hpp"

using namespace envprobe;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Verdict judgeJson(std::vector<JsonExpectation> json, std::string body) {
  HttpExpect expect;
  expect.json = std::move(json);
  Observation o;
  o.statusCode = 200;
  o.body = std::move(body);
  return HttpAssertions(expect, "at").evaluate(o);
}

void requireJsonFailure(const Verdict& v, const std::string& detail) {
  INFO("detail: " << v.detail);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.reason == Reason::Json);
  REQUIRE(v.detail == detail);
}

void requireOk(const Verdict& v) {
  INFO("reason: " << toString(v.reason) << " detail: " << v.detail);
  REQUIRE(v.ok);
}

std::string nested(int depth, const std::string& inner = "") {
  return std::string(static_cast<std::size_t>(depth), '[') + inner +
         std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

TEST_CASE("json: 100,000 nested arrays fail without exhausting the stack", "[assertions][json]") {
  requireJsonFailure(judgeJson({{"a", "1"}}, nested(100000)), "JSON nested deeper than 256 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  requireJsonFailure(judgeJson({{"a", "1"}}, objects), "JSON nested deeper than 256 levels");
}

TEST_CASE("json: nesting limit is 256 levels for the body", "[assertions][json]") {
  // 256 levels parse; the value at the root is then too deep to compare by its text.
  requireJsonFailure(judgeJson({{"", "[]"}}, nested(256)),
                     "json : got a value nested deeper than 64 levels, want \"[]\"");
  requireJsonFailure(judgeJson({{"", "[]"}}, nested(257)), "JSON nested deeper than 256 levels");
  // Paths into deep bodies still work below the value limit.
  std::string path = "0";
  for (int i = 1; i < 250; ++i) path += ".0";
  requireOk(judgeJson({{path, "7"}, {path.substr(0, path.size() - 2), "[7]"}}, nested(250, "7")));
}

TEST_CASE("json: a value is compared by its text up to 64 levels", "[assertions][json]") {
  requireOk(judgeJson({{"v", nested(64)}}, R"({"v":)" + nested(64) + "}"));
  requireJsonFailure(judgeJson({{"v", nested(65)}}, R"({"v":)" + nested(65) + "}"),
                     "json v: got a value nested deeper than 64 levels, want \"" +
                         std::string(65, '[') + std::string(55, ']') + "...\"");
}

TEST_CASE("json: a big array is streamed, paths index into it", "[assertions][json]") {
  std::string body = R"({"items":[)";
  for (int i = 0; i < 200000; ++i)
    body += (i ? "," : "") + std::string(R"({"id":)") + std::to_string(i) + "}";
  body += R"(],"version":"1.4.2"})";
  requireOk(
      judgeJson({{"items.0.id", "0"}, {"items.199999.id", "199999"}, {"version", "1.4.2"}}, body));
  requireJsonFailure(judgeJson({{"items.200000.id", "1"}}, body), "json items.200000.id: missing");
  requireJsonFailure(judgeJson({{"items.5", "{}"}}, body),
                     "json items.5: got {\"id\":5}, want \"{}\"");
}

TEST_CASE("json: path matching", "[assertions][json]") {
  const std::string body =
      R"({"m":[[1,2],[3,{"k":"v"}]],"o":{"0":"key zero"},"a":[10,11],"e":{},"s":"str"})";
  requireOk(
      judgeJson({{"m.1.0", "3"}, {"m.1.1.k", "v"}, {"o.0", "key zero"}, {"a.01", "11"}}, body));
  for (const char* path : {"m.2", "m.0.2", "m.1.1.x", "o.1", "a.x", "a.", "e.x", "s.0", "x.y.z"}) {
    INFO("path " << path);
    requireJsonFailure(judgeJson({{path, "1"}}, body), std::string("json ") + path + ": missing");
  }
  requireOk(judgeJson({{"", R"({"b":1})"}}, R"({"b":1})"));  // the empty path is the whole body
  requireOk(judgeJson({{"0", "x"}}, R"(["x"])"));            // a top-level array
  requireOk(judgeJson({{"", "42"}}, "42"));                  // a top-level scalar
}

TEST_CASE("json: a path and a path below it in one pass", "[assertions][json]") {
  const std::string body = R"({"build":{"version":"1.4.2","n":[1,2]}})";
  requireOk(judgeJson({{"build", R"({"n":[1,2],"version":"1.4.2"})"},
                       {"build.version", "1.4.2"},
                       {"build.n", "[1,2]"},
                       {"build.n.1", "2"}},
                      body));
}

TEST_CASE("json: non-scalar values are compared by their compact text", "[assertions][json]") {
  // Keys sorted and repeated keys collapsed, as in a parsed document's text.
  requireOk(judgeJson({{"o", R"({"a":2,"b":1})"}}, R"({"o":{"b":1,"a":2}})"));
  requireOk(judgeJson({{"o", R"({"a":3})"}}, R"({"o":{"a":1,"a":3}})"));
  requireOk(
      judgeJson({{"a", R"([null,true,"x",{"k":[]}])"}}, R"({"a":[null, true, "x", {"k": [ ]}]})"));
  requireJsonFailure(judgeJson({{"a", "[]"}}, R"({"a":[1, 2]})"), "json a: got [1,2], want \"[]\"");
}

TEST_CASE("json: a repeated key keeps its last value", "[assertions][json]") {
  const std::string body = R"({"a":{"b":1},"a":{"c":2}})";
  requireJsonFailure(judgeJson({{"a.b", "1"}}, body), "json a.b: missing");
  requireOk(judgeJson({{"a.c", "2"}, {"a", R"({"c":2})"}}, body));
  requireOk(judgeJson({{"v", "2"}}, R"({"v":1,"v":2})"));
}

TEST_CASE("json: numbers keep the formatting of a parsed document", "[assertions][json]") {
  const std::string body =
      R"({"i":-7,"u":18446744073709551615,"f":1.50,"e":1e2,"z":-0,"d":0.1,"big":1E+3})";
  requireOk(judgeJson({{"i", "-7"},
                       {"u", "18446744073709551615"},
                       {"f", "1.5"},
                       {"e", "100.0"},
                       {"z", "0"},
                       {"d", "0.1"},
                       {"big", "1000.0"}},
                      body));
  requireJsonFailure(judgeJson({{"f", "1.50"}}, body), "json f: got 1.5, want \"1.50\"");
}

TEST_CASE("json: long values are cut for display but compared whole", "[assertions][json]") {
  const std::string longText(300, 'x');
  requireOk(judgeJson({{"s", longText}}, R"({"s":")" + longText + R"("})"));
  requireJsonFailure(judgeJson({{"s", longText + "y"}}, R"({"s":")" + longText + R"("})"),
                     "json s: got \"" + std::string(120, 'x') + "...\", want \"" +
                         std::string(120, 'x') + "...\"");
  // A string much longer than the expected value is not kept whole.
  const std::string huge(4 << 20, 'h');
  requireJsonFailure(judgeJson({{"s", "h"}}, R"({"s":")" + huge + R"("})"),
                     "json s: got \"" + std::string(120, 'h') + "...\", want \"h\"");
}

TEST_CASE("json: an object or array over 1 MiB is not built", "[assertions][json]") {
  std::string body = R"({"a":[)";
  for (int i = 0; i < 20000; ++i) body += (i ? ",\"" : "\"") + std::string(100, 'q') + "\"";
  body += "]}";
  requireJsonFailure(judgeJson({{"a", "[]"}}, body),
                     "json a: got a value larger than 1 MiB, want \"[]\"");
  requireOk(judgeJson({{"a.19999", std::string(100, 'q')}}, body));  // paths into it still work
}

TEST_CASE("json: invalid bodies name the parser's error, quoting little", "[assertions][json]") {
  auto v = judgeJson({{"a", "1"}}, "<html>oops</html>");
  requireJsonFailure(v, v.detail);
  CHECK_THAT(v.detail, StartsWith("body is not valid JSON: "));
  CHECK_THAT(v.detail, Contains("line 1, column 1"));
  CHECK_THAT(v.detail, Contains("last read: \"<\""));
  CHECK_THAT(v.detail, !Contains("[json.exception"));

  v = judgeJson({{"a", "1"}}, R"({"a":1} trailing)");
  CHECK_THAT(v.detail, Contains("expected end of input"));

  v = judgeJson({{"a", "1"}}, "");
  CHECK_THAT(v.detail, StartsWith("body is not valid JSON: "));

  // An unterminated string: the parser's token is the rest of the body.
  v = judgeJson({{"a", "1"}}, R"({"a":")" + std::string(1 << 20, 'x'));
  CHECK(v.reason == Reason::Json);
  CHECK_THAT(v.detail, Contains("last read: \"\\\"xxxxxxxx"));
  CHECK(v.detail.size() < 500);

  // A number overflowing a double: the token is quoted without the "last read" form.
  v = judgeJson({{"a", "1"}}, "{\"a\":1" + std::string(100000, '0') + "e400}");
  CHECK(v.reason == Reason::Json);
  CHECK(v.detail.size() < 500);

  v = judgeJson({{"a", "1"}}, "{\"a\":\"\x01\"}");  // control characters are not printed raw
  CHECK(v.detail.find('\x01') == std::string::npos);
}
