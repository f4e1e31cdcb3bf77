// Deployment facts read while judging: the version (JSON path, header, regex) on passing and
// failing verdicts, sanitized; the identity step ({env}, pass, fail, missing); the body's hash
// only when the check tracks it.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "checks/assertions.hpp"
#include "checks/response_facts.hpp"
#include "probe/base/utf8.hpp"

using namespace envprobe;
using Catch::Matchers::Contains;

namespace {

Observation response(std::string body,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  Observation o;
  o.statusCode = 200;
  o.body = std::move(body);
  o.headers = std::move(headers);
  o.durationSeconds = 0.05;
  return o;
}

HttpCheckSpec withVersion(ValueSource::Kind kind, std::string key) {
  HttpCheckSpec spec;
  spec.version = {kind, std::move(key)};
  return spec;
}

std::string versionOf(const HttpCheckSpec& spec, const Observation& o) {
  return HttpAssertions(spec, "at").evaluate(o).version;
}

HttpCheckSpec withIdentity(ValueSource::Kind kind, std::string key, std::string equals = "{env}") {
  HttpCheckSpec spec;
  spec.expect.identity = IdentityExpect{{kind, std::move(key)}, std::move(equals)};
  return spec;
}

void requireWrongEnvironment(const Verdict& v, const std::string& detail) {
  INFO("reason: " << toString(v.reason) << " detail: " << v.detail);
  REQUIRE_FALSE(v.ok);
  REQUIRE(v.reason == Reason::WrongEnvironment);
  REQUIRE(v.detail == detail);
}

void requireOk(const Verdict& v) {
  INFO("reason: " << toString(v.reason) << " detail: " << v.detail);
  REQUIRE(v.ok);
}

}  // namespace

TEST_CASE("version: read from a JSON path, a header or a regex", "[assertions][deploy]") {
  const auto body = R"({"build":{"version":"1.4.2","number":57,"ok":true,"none":null}})";
  const Observation o = response(body, {{"x-app-version", "  2.0.1 \r"}, {"X-App-Version", "3"}});
  using Kind = ValueSource::Kind;
  CHECK(versionOf(withVersion(Kind::Json, "build.version"), o) == "1.4.2");
  CHECK(versionOf(withVersion(Kind::Json, "build.number"), o) == "57");  // a number's JSON text
  CHECK(versionOf(withVersion(Kind::Json, "build.ok"), o) == "true");
  CHECK(versionOf(withVersion(Kind::Json, "build.none"), o).empty());  // null: not a version
  CHECK(versionOf(withVersion(Kind::Json, "build.missing"), o).empty());
  CHECK(versionOf(withVersion(Kind::Header, "X-App-Version"), o) == "2.0.1");  // first, trimmed
  CHECK(versionOf(withVersion(Kind::Header, "X-Other"), o).empty());
  CHECK(versionOf(withVersion(Kind::Regex, "\"version\":\"([0-9.]+)\""), o) == "1.4.2");
  CHECK(versionOf(withVersion(Kind::Regex, "[0-9]+\\.[0-9]+\\.[0-9]+"), o) == "1.4.2");
  CHECK(versionOf(withVersion(Kind::Regex, "v=([0-9]+)"), o).empty());
  CHECK(versionOf(withVersion(Kind::Regex, "version(x)?"), o).empty());  // group not taken
  CHECK(versionOf(HttpCheckSpec{}, o).empty());                          // no source
}

TEST_CASE("version: filled on failing verdicts, not without a response", "[assertions][deploy]") {
  HttpCheckSpec spec = withVersion(ValueSource::Kind::Json, "version");
  spec.expect.json = {{"status", "up"}};
  Observation o = response(R"({"version":"9.1","status":"down"})");
  o.statusCode = 503;
  Verdict v = HttpAssertions(spec, "at").evaluate(o);
  CHECK(v.reason == Reason::HttpStatus);
  CHECK(v.version == "9.1");

  o.statusCode = 200;
  v = HttpAssertions(spec, "at").evaluate(o);
  CHECK(v.reason == Reason::Json);
  CHECK(v.version == "9.1");

  o.transportError = TransportError::BodyTooLarge;
  v = HttpAssertions(spec, "at").evaluate(o);
  CHECK(v.reason == Reason::BodyTooLarge);
  CHECK(v.version == "9.1");  // a response came: what it names is shown

  Observation none;
  none.transportError = TransportError::Connect;
  v = HttpAssertions(spec, "at").evaluate(none);
  CHECK(v.reason == Reason::Connect);
  CHECK(v.version.empty());
}

TEST_CASE("version: hostile values are bounded, valid UTF-8 and printable",
          "[assertions][deploy]") {
  using Kind = ValueSource::Kind;
  const std::size_t max = HttpAssertions::kMaxVersionBytes;
  SECTION("a huge JSON string is cut") {
    const std::string v = versionOf(withVersion(Kind::Json, "v"),
                                    response(R"({"v":")" + std::string(100000, 'x') + "\"}"));
    CHECK(v == std::string(max, 'x'));
  }
  SECTION("a huge JSON object is cut") {
    std::string body = R"({"v":[)";
    for (int i = 0; i < 20000; ++i) body += std::to_string(i) + ",";
    body += "0]}";
    const std::string v = versionOf(withVersion(Kind::Json, "v"), response(body));
    CHECK(v.size() <= max);
    CHECK(v.rfind("[0,1,2,", 0) == 0);
  }
  SECTION("a huge header is cut, a multi-byte character is not split") {
    const std::string value = std::string(max - 1, 'a') + "\xC3\xA9" + std::string(1000, 'b');
    const std::string v =
        versionOf(withVersion(Kind::Header, "X-V"), response("", {{"X-V", value}}));
    CHECK(v == std::string(max - 1, 'a'));
    CHECK(isValidUtf8(v));
  }
  SECTION("a huge regex match is cut") {
    const std::string v =
        versionOf(withVersion(Kind::Regex, "v=([a-z]+)"), response("v=" + std::string(5000, 'z')));
    CHECK(v == std::string(max, 'z'));
  }
  SECTION("invalid UTF-8 and control characters are replaced") {
    const std::string v = versionOf(withVersion(Kind::Header, "X-V"),
                                    response("", {{"X-V", "1.0\xFF\xFE-rc\x01\x1b[31m"}}));
    CHECK(isValidUtf8(v));
    CHECK(v == "1.0\xEF\xBF\xBD\xEF\xBF\xBD-rc\xEF\xBF\xBD\xEF\xBF\xBD[31m");
    const std::string r =
        versionOf(withVersion(Kind::Regex, "v=(\\S+)"), response("v=2.\xC0\xAF\n"));
    CHECK(isValidUtf8(r));
    CHECK(r.rfind("2.", 0) == 0);  // RE2 matches characters: the invalid bytes end the match
  }
  SECTION("whitespace only is no version") {
    CHECK(versionOf(withVersion(Kind::Json, "v"), response(R"({"v":"   "})")).empty());
  }
  SECTION("a body that is not JSON yields no version and no crash") {
    CHECK(versionOf(withVersion(Kind::Json, "v"), response("<html>")).empty());
    CHECK(versionOf(withVersion(Kind::Json, "v"), response(std::string(300, '['))).empty());
  }
}

TEST_CASE("factText and sha256Hex", "[assertions][deploy]") {
  CHECK(factText("  1.2.3\t\n", 128) == "1.2.3");
  CHECK(factText("abcdef", 3) == "abc");
  CHECK(factText("ab\xC3\xA9", 3) == "ab");
  CHECK(factText("\xE2\x82", 10) == "\xEF\xBF\xBD");
  CHECK(factText("", 10).empty());
  CHECK(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("identity: the response must name this environment", "[assertions][deploy]") {
  using Kind = ValueSource::Kind;
  const Observation o = response(R"({"env":"prod","n":7})", {{"X-Environment", " prod "}});
  SECTION("json: pass and fail with {env}") {
    requireOk(HttpAssertions(withIdentity(Kind::Json, "env"), "prod").evaluate(o));
    requireWrongEnvironment(HttpAssertions(withIdentity(Kind::Json, "env"), "staging").evaluate(o),
                            "identity \"prod\" (json env), expected \"staging\"");
  }
  SECTION("equals with {env} inside") {
    const Observation eu = response(R"({"env":"prod-eu"})");
    requireOk(HttpAssertions(withIdentity(Kind::Json, "env", "{env}-eu"), "prod").evaluate(eu));
    requireWrongEnvironment(
        HttpAssertions(withIdentity(Kind::Json, "env", "{env}-eu"), "at").evaluate(eu),
        "identity \"prod-eu\" (json env), expected \"at-eu\"");
  }
  SECTION("a number is compared by its text") {
    requireOk(HttpAssertions(withIdentity(Kind::Json, "n", "7"), "prod").evaluate(o));
  }
  SECTION("header, trimmed, any case") {
    requireOk(HttpAssertions(withIdentity(Kind::Header, "x-environment"), "prod").evaluate(o));
    requireWrongEnvironment(
        HttpAssertions(withIdentity(Kind::Header, "X-Environment"), "at").evaluate(o),
        "identity \"prod\" (header X-Environment), expected \"at\"");
  }
  SECTION("regex") {
    const Observation html = response("<meta name=env content=\"env=staging\">");
    requireOk(HttpAssertions(withIdentity(Kind::Regex, "env=([a-z]+)"), "staging").evaluate(html));
    requireWrongEnvironment(
        HttpAssertions(withIdentity(Kind::Regex, "env=([a-z]+)"), "prod").evaluate(html),
        "identity \"staging\" (regex \"env=([a-z]+)\"), expected \"prod\"");
  }
  SECTION("missing") {
    requireWrongEnvironment(
        HttpAssertions(withIdentity(Kind::Json, "meta.env"), "prod").evaluate(o),
        "no identity at json meta.env, expected \"prod\"");
    requireWrongEnvironment(HttpAssertions(withIdentity(Kind::Header, "X-Env"), "prod").evaluate(o),
                            "no identity at header X-Env, expected \"prod\"");
    const Verdict v = HttpAssertions(withIdentity(Kind::Regex, "env=([a-z]+)"), "prod").evaluate(o);
    requireWrongEnvironment(
        v, "no identity: regex \"env=([a-z]+)\" does not match, expected \"prod\"");
    CHECK(v.failedDueToRegex);
    requireWrongEnvironment(HttpAssertions(withIdentity(Kind::Json, "none"), "prod")
                                .evaluate(response(R"({"none":null})")),
                            "no identity at json none, expected \"prod\"");
  }
  SECTION("a body that is not JSON fails as json") {
    const Verdict v =
        HttpAssertions(withIdentity(Kind::Json, "env"), "prod").evaluate(response("<html>"));
    REQUIRE(v.reason == Reason::Json);
    CHECK_THAT(v.detail, Contains("body is not valid JSON"));
  }
  SECTION("a hostile value is bounded in the detail") {
    const std::string huge = "prod" + std::string(5000, 'x') + "\xFF";
    const Verdict v = HttpAssertions(withIdentity(Kind::Header, "X-Env"), "prod")
                          .evaluate(response("", {{"X-Env", huge}}));
    REQUIRE(v.reason == Reason::WrongEnvironment);
    CHECK(v.detail.size() < 200);
    CHECK(isValidUtf8(v.detail));
    CHECK_THAT(v.detail, Contains("\"prodxxx"));
    CHECK_THAT(v.detail, Contains("...\" (header X-Env)"));
    const Verdict longJson =
        HttpAssertions(withIdentity(Kind::Json, "env"), "prod")
            .evaluate(response(R"({"env":"prod)" + std::string(300, 'y') + "\"}"));
    REQUIRE(longJson.reason == Reason::WrongEnvironment);  // longer than kept: not equal
    CHECK(longJson.detail.size() < 200);
  }
}

TEST_CASE("identity: runs after the json step and before the duration", "[assertions][deploy]") {
  HttpCheckSpec spec = withIdentity(ValueSource::Kind::Json, "env");
  spec.expect.json = {{"status", "up"}};
  spec.expect.maxDuration = std::chrono::milliseconds(10);
  Observation o = response(R"({"env":"staging","status":"down"})");
  o.durationSeconds = 1;
  CHECK(HttpAssertions(spec, "prod").evaluate(o).reason == Reason::Json);
  o.body = R"({"env":"staging","status":"up"})";
  CHECK(HttpAssertions(spec, "prod").evaluate(o).reason == Reason::WrongEnvironment);
  o.body = R"({"env":"prod","status":"up"})";
  CHECK(HttpAssertions(spec, "prod").evaluate(o).reason == Reason::TooSlow);
}

TEST_CASE("identity and version share one JSON pass with the json step", "[assertions][deploy]") {
  HttpCheckSpec spec = withIdentity(ValueSource::Kind::Json, "meta.env");
  spec.version = {ValueSource::Kind::Json, "meta.version"};
  spec.expect.json = {{"meta.env", "{env}"}, {"status", "up"}};
  const Verdict v =
      HttpAssertions(spec, "at")
          .evaluate(response(R"({"meta":{"env":"at","version":"5.0.0"},"status":"up"})"));
  requireOk(v);
  CHECK(v.version == "5.0.0");
}

TEST_CASE("body hash: only when the check tracks the body", "[assertions][deploy]") {
  HttpCheckSpec spec;
  const Observation o = response("abc");
  CHECK(HttpAssertions(spec, "at").evaluate(o).bodySha256.empty());  // default: not tracked
  spec.track.add(Fact::Body);
  const Verdict v = HttpAssertions(spec, "at").evaluate(o);
  CHECK(v.bodySha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Observation failed = o;
  failed.statusCode = 500;
  CHECK(HttpAssertions(spec, "at").evaluate(failed).bodySha256 == v.bodySha256);
  Observation none;
  none.transportError = TransportError::Timeout;
  CHECK(HttpAssertions(spec, "at").evaluate(none).bodySha256.empty());
  spec.track = TrackedFacts::none();
  CHECK(HttpAssertions(spec, "at").evaluate(o).bodySha256.empty());
}

TEST_CASE("identity: an expectation-only constructor judges identity too", "[assertions][deploy]") {
  HttpExpect expect;
  expect.identity = IdentityExpect{{ValueSource::Kind::Json, "env"}};
  const Verdict v = HttpAssertions(expect, "prod").evaluate(response(R"({"env":"at"})"));
  CHECK(v.reason == Reason::WrongEnvironment);
  CHECK(v.version.empty());
}
