#include "checks/assertions.hpp"
#include "checks/regex_budget.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace envprobe;
using Catch::Matchers::Contains;

namespace {

Observation okObservation(std::string body = "<html><title>Shop</title></html>") {
  Observation o;
  o.statusCode = 200;
  o.body = std::move(body);
  o.headers = {{"Content-Type", "text/html; charset=utf-8"}, {"Server", "nginx/1.22.1"}};
  o.durationSeconds = 0.05;
  return o;
}

Verdict judge(const HttpExpect& expect, const Observation& o, const std::string& env = "at") {
  return HttpAssertions(expect, env).evaluate(o);
}

void requireFailure(const Verdict& v, Reason reason, const std::string& detailPart) {
  INFO("detail: " << v.detail);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.reason == reason);
  REQUIRE_THAT(v.detail, Contains(detailPart));
}

void requireOk(const Verdict& v) {
  INFO("reason: " << toString(v.reason) << " detail: " << v.detail);
  REQUIRE(v.ok);
  REQUIRE(v.reason == Reason::None);
  REQUIRE_FALSE(v.failedDueToRegex);
}

}  // namespace

TEST_CASE("assertions: reason labels", "[assertions]") {
  CHECK(std::string(toString(Reason::None)) == "none");
  CHECK(std::string(toString(Reason::DnsNxdomain)) == "dns_nxdomain");
  CHECK(std::string(toString(Reason::DnsServfail)) == "dns_servfail");
  CHECK(std::string(toString(Reason::DnsTimeout)) == "dns_timeout");
  CHECK(std::string(toString(Reason::Dns)) == "dns");
  CHECK(std::string(toString(Reason::Connect)) == "connect");
  CHECK(std::string(toString(Reason::Tls)) == "tls");
  CHECK(std::string(toString(Reason::Timeout)) == "timeout");
  CHECK(std::string(toString(Reason::HttpStatus)) == "http_status");
  CHECK(std::string(toString(Reason::Body)) == "body");
  CHECK(std::string(toString(Reason::Header)) == "header");
  CHECK(std::string(toString(Reason::Json)) == "json");
  CHECK(std::string(toString(Reason::TooSlow)) == "too_slow");
  CHECK(std::string(toString(Reason::BodyTooLarge)) == "body_too_large");
  CHECK(std::string(toString(Reason::Redirects)) == "redirects");
  CHECK(std::string(toString(Reason::Error)) == "error");
}

TEST_CASE("assertions: transport errors map to reasons", "[assertions]") {
  CHECK(reasonFor(TransportError::None) == Reason::None);
  CHECK(reasonFor(TransportError::DnsNxdomain) == Reason::DnsNxdomain);
  CHECK(reasonFor(TransportError::DnsServfail) == Reason::DnsServfail);
  CHECK(reasonFor(TransportError::DnsTimeout) == Reason::DnsTimeout);
  CHECK(reasonFor(TransportError::DnsOther) == Reason::Dns);
  CHECK(reasonFor(TransportError::Connect) == Reason::Connect);
  CHECK(reasonFor(TransportError::Tls) == Reason::Tls);
  CHECK(reasonFor(TransportError::Timeout) == Reason::Timeout);
  CHECK(reasonFor(TransportError::BodyTooLarge) == Reason::BodyTooLarge);
  CHECK(reasonFor(TransportError::Redirects) == Reason::Redirects);
  CHECK(reasonFor(TransportError::Other) == Reason::Error);
}

TEST_CASE("assertions: transport error wins over everything else", "[assertions]") {
  HttpExpect expect;
  expect.bodyContains = {"never there"};
  Observation o;  // status 0, empty body: every later step would fail too
  o.transportError = TransportError::Connect;
  o.transportDetail = "Failed to connect to 10.0.1.5 port 443: Connection refused";
  requireFailure(judge(expect, o), Reason::Connect, "Connection refused");

  o.transportError = TransportError::DnsNxdomain;
  o.transportDetail.clear();
  requireFailure(judge(expect, o), Reason::DnsNxdomain, "dns_nxdomain");  // fallback detail
}

TEST_CASE("assertions: everything passing gives ok", "[assertions]") {
  HttpExpect expect;
  expect.status = {{200, 299}};
  expect.bodyContains = {"<title>Shop"};
  expect.bodyNotContains = {"Invalid Hostname"};
  expect.bodyRegex = {"<title>[A-Z][a-z]+</title>"};
  expect.headers = {{"content-type", "text/html.*"}};
  expect.maxDuration = std::chrono::seconds(2);
  requireOk(judge(expect, okObservation()));
}

TEST_CASE("assertions: default status is 2xx", "[assertions]") {
  HttpExpect expect;
  auto o = okObservation();
  o.statusCode = 204;
  requireOk(judge(expect, o));
  o.statusCode = 400;
  requireFailure(judge(expect, o), Reason::HttpStatus, "status 400 not in [200-299]");
  o.statusCode = 301;
  requireFailure(judge(expect, o), Reason::HttpStatus, "status 301 not in [200-299]");
}

TEST_CASE("assertions: status ranges and single codes", "[assertions]") {
  HttpExpect expect;
  expect.status = {{200, 299}, {301, 301}, {404, 404}};
  auto o = okObservation();
  for (int code : {200, 250, 299, 301, 404}) {
    o.statusCode = code;
    INFO("code " << code);
    requireOk(judge(expect, o));
  }
  for (int code : {199, 300, 302, 403, 500}) {
    o.statusCode = code;
    INFO("code " << code);
    requireFailure(judge(expect, o), Reason::HttpStatus,
                   "status " + std::to_string(code) + " not in [200-299,301,404]");
  }
}

TEST_CASE("assertions: body_contains and body_not_contains", "[assertions]") {
  HttpExpect expect;
  expect.bodyContains = {"<title>Shop", "</html>"};
  requireOk(judge(expect, okObservation()));

  auto v = judge(expect, okObservation("HTTP 400 Invalid Hostname"));
  requireFailure(v, Reason::Body, "body does not contain \"<title>Shop\"");
  CHECK_FALSE(v.failedDueToRegex);

  HttpExpect forbidden;
  forbidden.bodyNotContains = {"Invalid Hostname"};
  requireOk(judge(forbidden, okObservation()));
  requireFailure(judge(forbidden, okObservation("HTTP 400 Invalid Hostname")), Reason::Body,
                 "body contains forbidden \"Invalid Hostname\"");
}

TEST_CASE("assertions: body_regex is a partial match", "[assertions]") {
  HttpExpect expect;
  expect.bodyRegex = {"version: 1\\.4\\.\\d+"};
  requireOk(judge(expect, okObservation("<p>version: 1.4.2</p>")));

  auto v = judge(expect, okObservation("<p>version: 1.5.0</p>"));
  requireFailure(v, Reason::Body, "body does not match regex \"version: 1\\.4\\.\\d+\"");
  CHECK(v.failedDueToRegex);
}

TEST_CASE("assertions: body_contains fails before body_regex", "[assertions]") {
  HttpExpect expect;
  expect.bodyContains = {"missing"};
  expect.bodyRegex = {"also missing"};
  auto v = judge(expect, okObservation());
  requireFailure(v, Reason::Body, "does not contain \"missing\"");
  CHECK_FALSE(v.failedDueToRegex);
}

TEST_CASE("assertions: catastrophic-backtracking pattern stays linear", "[assertions]") {
  HttpExpect expect;
  expect.bodyRegex = {"^(a+)+$"};
  std::string body(30000, 'a');
  body += 'b';
  auto v = judge(expect, okObservation(body));
  requireFailure(v, Reason::Body, "does not match regex");
  CHECK(v.failedDueToRegex);

  HttpExpect header;
  header.headers = {{"X-Long", "(a+)+$"}};
  auto o = okObservation();
  o.headers.emplace_back("X-Long", body);
  requireFailure(judge(header, o), Reason::Header, "does not match \"(a+)+$\"");
  o.headers.back().second = std::string(30000, 'a');
  requireOk(judge(header, o));
}

TEST_CASE("assertions: header names are case-insensitive, values fully match", "[assertions]") {
  HttpExpect expect;
  expect.headers = {{"CONTENT-TYPE", "text/html.*"}};
  requireOk(judge(expect, okObservation()));

  auto o = okObservation();
  o.headers = {{"content-type", "application/json"}};
  auto v = judge(expect, o);
  requireFailure(v, Reason::Header,
                 "header CONTENT-TYPE: \"application/json\" does not match \"text/html.*\"");
  CHECK(v.failedDueToRegex);

  HttpExpect partial;  // "html" occurs in the value but does not match all of it
  partial.headers = {{"Content-Type", "html"}};
  requireFailure(judge(partial, okObservation()), Reason::Header, "does not match \"html\"");
}

TEST_CASE("assertions: header value whitespace is not part of the value", "[assertions]") {
  HttpExpect expect;
  expect.headers = {{"X-Version", "1\\.4\\.2"}};
  auto o = okObservation();
  o.headers.emplace_back("X-Version", " 1.4.2\r\n");
  requireOk(judge(expect, o));
}

TEST_CASE("assertions: missing header", "[assertions]") {
  HttpExpect expect;
  expect.headers = {{"X-Version", ".*"}};
  auto v = judge(expect, okObservation());
  requireFailure(v, Reason::Header, "header X-Version missing");
  CHECK_FALSE(v.failedDueToRegex);
}

TEST_CASE("assertions: duplicate headers pass when any value matches", "[assertions]") {
  HttpExpect expect;
  expect.headers = {{"Set-Cookie", "session=.*"}};
  auto o = okObservation();
  o.headers.emplace_back("Set-Cookie", "lang=en");
  o.headers.emplace_back("set-cookie", "session=abc; HttpOnly");
  requireOk(judge(expect, o));

  o.headers.back().second = "theme=dark";
  auto v = judge(expect, o);
  requireFailure(v, Reason::Header,
                 "header Set-Cookie: none of \"lang=en\", \"theme=dark\" matches \"session=.*\"");
  CHECK(v.failedDueToRegex);
}

TEST_CASE("assertions: json nested objects and array paths", "[assertions]") {
  const std::string body =
      R"({"build":{"version":"1.4.2","env":"at"},"items":[{"id":7},{"id":"x"}],"ok":true})";
  HttpExpect expect;
  expect.json = {
      {"build.version", "1.4.2"}, {"items.0.id", "7"}, {"items.1.id", "x"}, {"ok", "true"}};
  requireOk(judge(expect, okObservation(body)));

  HttpExpect wrong;
  wrong.json = {{"build.version", "1.4.3"}};
  auto v = judge(wrong, okObservation(body));
  requireFailure(v, Reason::Json, "json build.version: got \"1.4.2\", want \"1.4.3\"");
  CHECK_FALSE(v.failedDueToRegex);
}

TEST_CASE("assertions: json compares non-strings by their text", "[assertions]") {
  const std::string body = R"({"n":3,"f":1.5,"t":true,"z":null,"s":"3","a":[1,2],"o":{"k":1}})";
  HttpExpect expect;
  expect.json = {{"n", "3"}, {"f", "1.5"},   {"t", "true"},     {"z", "null"},
                 {"s", "3"}, {"a", "[1,2]"}, {"o", "{\"k\":1}"}};
  requireOk(judge(expect, okObservation(body)));

  HttpExpect number;
  number.json = {{"n", "4"}};
  requireFailure(judge(number, okObservation(body)), Reason::Json, "json n: got 3, want \"4\"");

  HttpExpect boolean;
  boolean.json = {{"t", "false"}};
  requireFailure(judge(boolean, okObservation(body)), Reason::Json, "got true, want \"false\"");

  HttpExpect quoted;  // a string is compared raw, without its JSON quotes
  quoted.json = {{"s", "\"3\""}};
  requireFailure(judge(quoted, okObservation(body)), Reason::Json, "json s: got \"3\"");
}

TEST_CASE("assertions: json missing paths", "[assertions]") {
  const std::string body = R"({"build":{"version":"1.4.2"},"items":[{"id":7}]})";
  for (const char* path :
       {"build.commit", "build.version.major", "items.1.id", "items.x", "items.-1", "nothing"}) {
    HttpExpect expect;
    expect.json = {{path, "1"}};
    INFO("path " << path);
    requireFailure(judge(expect, okObservation(body)), Reason::Json,
                   std::string("json ") + path + ": missing");
  }
}

TEST_CASE("assertions: invalid JSON body", "[assertions]") {
  HttpExpect expect;
  expect.json = {{"build.version", "1.4.2"}};
  requireFailure(judge(expect, okObservation("<html>oops</html>")), Reason::Json,
                 "body is not valid JSON");
  requireFailure(judge(expect, okObservation(R"({"build":)")), Reason::Json,
                 "body is not valid JSON");
}

TEST_CASE("assertions: deeply nested JSON does not crash", "[assertions]") {
  std::string body = R"({"a":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  HttpExpect expect;
  expect.json = {{"a", "[]"}};
  auto v = judge(expect, okObservation(body));
  requireFailure(v, Reason::Json, "JSON nested deeper than 256 levels");
  CHECK(v.detail == "JSON nested deeper than 256 levels");

  // Within the body's limit, a value too deep to compare by its text still fails clearly.
  body = R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}";
  requireFailure(judge(expect, okObservation(body)), Reason::Json,
                 "json a: got a value nested deeper than 64 levels");
}

TEST_CASE("assertions: {env} substitution", "[assertions]") {
  HttpExpect expect;
  expect.bodyContains = {"env={env}"};
  expect.json = {{"env", "{env}-{env}"}};
  requireOk(
      HttpAssertions(expect, "at").evaluate(okObservation(R"({"env":"at-at","x":"env=at"})")));

  auto v =
      HttpAssertions(expect, "prod").evaluate(okObservation(R"({"env":"at-at","x":"env=at"})"));
  requireFailure(v, Reason::Body, "body does not contain \"env=prod\"");

  expect.bodyContains.clear();
  v = HttpAssertions(expect, "prod").evaluate(okObservation(R"({"env":"at-at"})"));
  requireFailure(v, Reason::Json, "json env: got \"at-at\", want \"prod-prod\"");
}

TEST_CASE("assertions: max_duration", "[assertions]") {
  HttpExpect expect;
  expect.maxDuration = std::chrono::seconds(2);
  auto o = okObservation();
  o.durationSeconds = 2.0;
  requireOk(judge(expect, o));
  o.durationSeconds = 2.41;
  requireFailure(judge(expect, o), Reason::TooSlow, "took 2.41s, budget 2s");
  o.durationSeconds = 2.0004;  // printed with enough digits to be visibly over budget
  requireFailure(judge(expect, o), Reason::TooSlow, "took 2.0004s, budget 2s");

  expect.maxDuration = std::chrono::milliseconds(250);
  o.durationSeconds = 0.3;
  requireFailure(judge(expect, o), Reason::TooSlow, "took 0.3s, budget 0.25s");
}

TEST_CASE("assertions: evaluation order, first failure wins", "[assertions]") {
  HttpExpect expect;
  expect.bodyContains = {"absent"};
  expect.headers = {{"X-Absent", ".*"}};
  expect.json = {{"a", "1"}};
  expect.maxDuration = std::chrono::milliseconds(1);
  auto o = okObservation();
  o.durationSeconds = 5;
  o.statusCode = 500;
  CHECK(judge(expect, o).reason == Reason::HttpStatus);
  o.statusCode = 200;
  CHECK(judge(expect, o).reason == Reason::Body);
  expect.bodyContains.clear();
  CHECK(judge(expect, o).reason == Reason::Header);
  expect.headers.clear();
  CHECK(judge(expect, o).reason == Reason::Json);
  expect.json.clear();
  CHECK(judge(expect, o).reason == Reason::TooSlow);
}

TEST_CASE("assertions: regexBudgetError", "[assertions]") {
  CHECK_FALSE(regexBudgetError("text/html.*").has_value());
  CHECK_FALSE(regexBudgetError("").has_value());
  auto error = regexBudgetError("(");
  REQUIRE(error.has_value());
  CHECK_THAT(*error, Contains("missing )"));
  CHECK(regexBudgetError("a(?=b)").has_value());  // lookahead is not RE2 syntax
  // Too costly to run in linear time within the budget: refused like a syntax error.
  auto costly = regexBudgetError("a.{1000}b");
  REQUIRE(costly.has_value());
  CHECK_THAT(*costly, Contains("too costly"));
}

TEST_CASE("assertions: an invalid pattern fails the probe with reason error", "[assertions]") {
  HttpExpect expect;
  expect.bodyRegex = {"("};
  auto v = judge(expect, okObservation());
  requireFailure(v, Reason::Error, "invalid body_regex \"(\": missing )");
  CHECK_FALSE(v.failedDueToRegex);

  HttpExpect header;
  header.headers = {{"Content-Type", "[a-"}};
  requireFailure(judge(header, okObservation()), Reason::Error, "invalid header regex \"[a-\"");
}

TEST_CASE("assertions: one instance is reusable and copyable", "[assertions]") {
  HttpExpect expect;
  expect.bodyRegex = {"Shop"};
  HttpAssertions original(expect, "at");
  HttpAssertions copy = original;
  requireOk(copy.evaluate(okObservation()));
  requireFailure(original.evaluate(okObservation("nope")), Reason::Body, "regex \"Shop\"");
  requireOk(original.evaluate(okObservation()));
}
