// HttpAssertions::cheapFor: which observations are judged on the event loop (bounded work) and
// which go to the verdict pool (work that grows with what the target sent); evaluateOwned.
#include "checks/assertions.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace envprobe;

namespace {

Observation response(std::size_t bodyBytes, std::size_t headerCount = 2) {
  Observation o;
  o.statusCode = 200;
  o.body.assign(bodyBytes, 'x');
  for (std::size_t i = 0; i < headerCount; ++i)
    o.headers.emplace_back("X-Header-" + std::to_string(i), std::string(100, 'v'));
  return o;
}

constexpr std::size_t kScan = HttpAssertions::kCheapScanBytes;
constexpr std::size_t kMatch = HttpAssertions::kCheapMatchBytes;

}  // namespace

TEST_CASE("cheap judging: without body steps any body is cheap", "[assertions]") {
  HttpExpect expect;
  expect.status = {StatusRange{200, 299}, StatusRange{404, 404}};
  expect.maxDuration = Duration(500);
  const HttpAssertions assertions(expect, "at");
  CHECK(assertions.cheapFor(response(0)));
  CHECK(assertions.cheapFor(response(1 << 20)));  // nothing reads it
  CHECK(assertions.cheapFor(response(1 << 20, 3000)));  // nor the headers: no header regex
  Observation failed;
  failed.transportError = TransportError::Connect;
  CHECK(assertions.cheapFor(failed));
}

TEST_CASE("cheap judging: substring steps and body hashing are cheap up to kCheapScanBytes",
          "[assertions]") {
  HttpExpect contains;
  contains.bodyContains = {"ok"};
  HttpExpect notContains;
  notContains.bodyNotContains = {"error"};
  HttpCheckSpec hashed;
  hashed.track.add(Fact::Body);
  for (const HttpAssertions& assertions :
       {HttpAssertions(contains, "at"), HttpAssertions(notContains, "at"),
        HttpAssertions(hashed, "at")}) {
    CHECK(assertions.cheapFor(response(0)));
    CHECK(assertions.cheapFor(response(kScan)));
    CHECK_FALSE(assertions.cheapFor(response(kScan + 1)));
  }
}

TEST_CASE("cheap judging: a JSON path over the body is cheap only on a small body",
          "[assertions]") {
  HttpExpect json;
  json.json = {JsonExpectation{"status", "ok"}};
  HttpExpect identityJson;
  identityJson.identity = IdentityExpect{ValueSource{ValueSource::Kind::Json, "env"}};
  HttpCheckSpec versionJson;
  versionJson.version = ValueSource{ValueSource::Kind::Json, "build.version"};
  for (const HttpAssertions& assertions :
       {HttpAssertions(json, "at"), HttpAssertions(identityJson, "at"),
        HttpAssertions(versionJson, "at")}) {
    CHECK(assertions.cheapFor(response(0)));
    CHECK(assertions.cheapFor(response(kMatch)));
    CHECK_FALSE(assertions.cheapFor(response(kMatch + 1)));
    CHECK_FALSE(assertions.cheapFor(response(10 << 20)));
  }
}

TEST_CASE("cheap judging: never with a regex (its match cache is shared with the worker pool)",
          "[assertions]") {
  HttpExpect regex;
  regex.bodyRegex = {"x+"};
  HttpExpect identityRegex;
  identityRegex.identity = IdentityExpect{ValueSource{ValueSource::Kind::Regex, "env=(\\w+)"}};
  HttpCheckSpec versionRegex;
  versionRegex.version = ValueSource{ValueSource::Kind::Regex, "v([0-9.]+)"};
  HttpExpect headerRegex;
  headerRegex.headers = {HeaderExpectation{"Content-Type", "text/.*"}};
  for (const HttpAssertions& assertions :
       {HttpAssertions(regex, "at"), HttpAssertions(identityRegex, "at"),
        HttpAssertions(versionRegex, "at"), HttpAssertions(headerRegex, "at")}) {
    CHECK_FALSE(assertions.cheapFor(response(0)));
    CHECK_FALSE(assertions.cheapFor(response(kMatch)));
    CHECK_FALSE(assertions.cheapFor(response(10 << 20)));
  }
}

TEST_CASE("cheap judging: values read from headers are cheap", "[assertions]") {
  HttpExpect identityHeader;
  identityHeader.identity = IdentityExpect{ValueSource{ValueSource::Kind::Header, "X-Env"}};
  HttpCheckSpec versionHeader;
  versionHeader.version = ValueSource{ValueSource::Kind::Header, "X-Version"};
  CHECK(HttpAssertions(identityHeader, "at").cheapFor(response(1 << 20, 3000)));
  CHECK(HttpAssertions(versionHeader, "at").cheapFor(response(1 << 20, 3000)));
}

TEST_CASE("cheap judging: evaluateOwned makes a body valid UTF-8 only when a step reads it",
          "[assertions]") {
  const std::string invalid = "ok \xff\xfe end";
  HttpExpect contains;
  contains.bodyContains = {"end"};
  Observation read = response(0);
  read.body = invalid;
  const Verdict verdict = HttpAssertions(contains, "at").evaluateOwned(read);
  CHECK(verdict.ok);
  CHECK(read.body != invalid);
  CHECK(read.body.find("end") != std::string::npos);

  HttpExpect statusOnly;
  Observation unread = response(0);
  unread.body = invalid;
  CHECK(HttpAssertions(statusOnly, "at").evaluateOwned(unread).ok);
  CHECK(unread.body == invalid);  // left as it is: no step reads it, it is dropped after judging
}
