// Secrets come from files or the environment, are read at load time (so check-config refuses a
// missing one), and never appear in a URL that is shown.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "probe/catalog/target.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;
using envprobe::testing::TempDir;
using Catch::Matchers::Contains;

namespace {

std::string agentWithCheck(const TempDir& dir, const std::string& http) {
  return dir.write("agent.yaml", R"(environment: at
environments:
  at: { tier: nonprod }
services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public: []
    checks:
      - name: home
        http:
)" + http);
}

const HttpCheckSpec& onlySpec(const LoadResult& result) {
  REQUIRE(result.diagnostics.errorCount() == 0);
  return *result.config.catalog.services.at(0).checks.at(0).http;
}

}  // namespace

TEST_CASE("secrets: bearer token, headers and query parameters from files and the environment",
          "[config][secrets]") {
  TempDir dir;
  dir.write("token", "s3cr3t\n");
  dir.write("keys/api", "k-123");
  ::setenv("ENVPROBE_TEST_SECRET", "from env&more", 1);
  const auto file = agentWithCheck(dir, R"(          bearer_token_file: token
          headers_from_file: { X-Api-Key: keys/api }
          headers_from_env: { X-Env-Key: ENVPROBE_TEST_SECRET }
          query_from_env: { sig: ENVPROBE_TEST_SECRET }
)");
  const auto result = loadConfig(file);
  const HttpCheckSpec& spec = onlySpec(result);
  CHECK(spec.secrets.headers == std::vector<std::pair<std::string, std::string>>{
                                    {"Authorization", "Bearer s3cr3t"},
                                    {"X-Api-Key", "k-123"},
                                    {"X-Env-Key", "from env&more"}});
  CHECK(spec.secrets.query == "sig=from%20env%26more");
  CHECK(spec.headers.empty());
}

TEST_CASE("secrets: a missing file, an unset variable, a multi-line value are load errors",
          "[config][secrets]") {
  TempDir dir;
  dir.write("two-lines", "abc\nHost: evil\n");
  ::unsetenv("ENVPROBE_TEST_UNSET");
  const auto [http, why] = GENERATE(table<std::string, std::string>({
      {"          bearer_token_file: nope\n", "no such file"},
      {"          headers_from_env: { X-Key: ENVPROBE_TEST_UNSET }\n",
       "environment variable ENVPROBE_TEST_UNSET is not set"},
      {"          headers_from_file: { X-Key: two-lines }\n", "control character"},
      {"          query_from_file: { token: . }\n", "is not a regular file"},
  }));
  const auto file = agentWithCheck(dir, http);
  const auto result = loadConfig(file);
  REQUIRE(result.diagnostics.errorCount() == 1);
  const std::string error = result.diagnostics.items()[0].format();
  CHECK_THAT(error, Contains(file + ":12:"));
  CHECK_THAT(error, Contains(why));
  CHECK_THAT(error, !Contains("evil"));  // a secret's value is never quoted
}

TEST_CASE("redactedUrl: query values and user info are never shown", "[catalog][secrets]") {
  CHECK(redactedUrl("https://shop.example.com/") == "https://shop.example.com/");
  CHECK(redactedUrl("https://shop.example.com/health?token=abc&verbose") ==
        "https://shop.example.com/health?token=<redacted>&<redacted>");
  CHECK(redactedUrl("https://u:p@shop.example.com:8443/a?x=1&y=2#frag") ==
        "https://<redacted>@shop.example.com:8443/a?x=<redacted>&y=<redacted>#frag");
  CHECK(redactedUrl("http://h/?a=") == "http://h/?a=");
  CHECK(redactedUrl("http://h/health?s3cr3t") == "http://h/health?<redacted>");
  CHECK(redactedUrl("/relative?k=v") == "/relative?k=<redacted>");
}
