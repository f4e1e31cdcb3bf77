// The pure half of the control API client: URLs, the token file, reading hostile answers.
#include "probe/cmd/api_client.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/test_files.hpp"

using Catch::Matchers::Contains;
using envprobe::ApiResponse;
using envprobe::testing::TempDir;

namespace {

ApiResponse answer(long status, std::string body) {
  ApiResponse r;
  r.ok = true;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// readApiAnswer for a GET of http://a/x accepting 200; the error when it refuses.
std::string refusal(const ApiResponse& r) {
  std::string error;
  const auto data = envprobe::readApiAnswer("GET", "http://a/x", r, {200}, error);
  CHECK_FALSE(data);
  return error;
}

}  // namespace

TEST_CASE("cli: api URLs join the base with or without a trailing slash", "[cli][control]") {
  using envprobe::apiUrl;
  CHECK(apiUrl("http://a:1", "/api/v1/gate") == "http://a:1/api/v1/gate");
  CHECK(apiUrl("http://a:1/", "/api/v1/gate") == "http://a:1/api/v1/gate");
  CHECK(apiUrl("http://a:1/envprobe//", "/api/v1/gate") == "http://a:1/envprobe/api/v1/gate");
  CHECK(apiUrl("http://a", "/g", {{"for", "24h"}, {"service", "a b&c=d/é"}}) ==
        "http://a/g?for=24h&service=a%20b%26c%3Dd%2F%C3%A9");
}

TEST_CASE("cli: the token file is read trimmed; empty or multi-line is refused", "[cli][control]") {
  TempDir dir;
  std::string error;
  CHECK(envprobe::readTokenFile(dir.write("t", "  s3cret \n"), error) == "s3cret");
  CHECK_FALSE(envprobe::readTokenFile(dir.write("e", " \n\t\n"), error));
  CHECK_THAT(error, Contains("is empty"));
  CHECK_FALSE(envprobe::readTokenFile(dir.write("two", "a\nb\n"), error));
  CHECK_THAT(error, Contains("control character"));
  CHECK_FALSE(envprobe::readTokenFile((dir.path() / "missing").string(), error));
  CHECK_THAT(error, Contains("cannot read the token file"));
  CHECK_THAT(error, Contains("No such file"));
}

TEST_CASE("cli: a CA file must be readable and not empty", "[cli][control]") {
  TempDir dir;
  std::string error;
  CHECK(envprobe::checkCaFile("", error));
  CHECK(envprobe::checkCaFile(dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n"), error));
  CHECK_FALSE(envprobe::checkCaFile(dir.write("empty.pem", ""), error));
  CHECK(error == "cannot read the CA file " + (dir.path() / "empty.pem").string() + ": it is empty");
  CHECK_FALSE(envprobe::checkCaFile((dir.path() / "none.pem").string(), error));
  CHECK_THAT(error, Contains("No such file"));
}

TEST_CASE("cli: an API answer gives its data only when status and envelope are right",
          "[cli][control]") {
  std::string error;
  const auto data = envprobe::readApiAnswer("POST", "http://a/x",
                                            answer(201, R"({"status":"success","data":{"k":1}})"),
                                            {200, 201}, error);
  REQUIRE(data);
  CHECK((*data)["k"] == 1);

  ApiResponse down;
  down.error = "agent unreachable: Connection refused";
  CHECK(refusal(down) == "GET http://a/x: agent unreachable: Connection refused");
  CHECK(refusal(
            answer(401, R"({"status":"error","errorType":"unauthorized","error":"bad token"})")) ==
        "GET http://a/x: HTTP 401: bad token (unauthorized)");
  CHECK(refusal(answer(502, "<html>bad gateway</html>")) ==
        "GET http://a/x: HTTP 502: an answer that is not the API's error JSON");
  auto redirect = answer(302, "");
  redirect.location = "http://b/x";
  CHECK_THAT(refusal(redirect), Contains("HTTP 302, a redirect to http://b/x (redirects are not "
                                         "followed"));
  CHECK(refusal(answer(200, "{not json")) ==
        "GET http://a/x: HTTP 200 with an answer that is not JSON");
  CHECK_THAT(refusal(answer(200, "[1,2]")), Contains("not the API's envelope"));
  CHECK_THAT(refusal(answer(200, R"({"status":"success"})")), Contains("has no \"data\""));
  CHECK(refusal(answer(200, R"({"status":"error","error":"x"})")) ==
        "GET http://a/x: HTTP 200 but status \"error\": x");
  CHECK_THAT(refusal(answer(200, std::string(100000, '[') + std::string(100000, ']'))),
             Contains("nested deeper than 64 levels"));
  // The agent's text reaches the terminal without control characters.
  CHECK(refusal(answer(400, "{\"status\":\"error\",\"error\":\"a\\u001b[31mb\\nc\"}")) ==
        "GET http://a/x: HTTP 400: a\xEF\xBF\xBD[31mb\xEF\xBF\xBD"
        "c");
}

TEST_CASE("cli: answer fields are type-checked", "[cli][control]") {
  const auto object = nlohmann::json::parse(R"({"s":"x","n":1,"b":true,"z":null})");
  std::string s, error;
  bool b = false;
  CHECK(envprobe::readString(object, "s", "here", true, s, error));
  CHECK(s == "x");
  CHECK_FALSE(envprobe::readString(object, "n", "here", false, s, error));
  CHECK(error == "here: \"n\" is not a string");
  CHECK(envprobe::readString(object, "z", "here", false, s, error));
  CHECK_FALSE(envprobe::readString(object, "z", "here", true, s, error));
  CHECK(error == "here: \"z\" is missing");
  CHECK(envprobe::readBool(object, "b", "here", true, b, error));
  CHECK(b);
  CHECK_FALSE(envprobe::readBool(object, "s", "here", true, b, error));
  CHECK(error == "here: \"s\" is not true or false");
}
