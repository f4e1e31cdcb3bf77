#include "probe/web/web_config.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/test_files.hpp"

using envprobe::loadWebConfig;
using envprobe::parseWebConfig;
using envprobe::WebConfigError;
using envprobe::testing::TempDir;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kHash = "$2b$04$T7.ox6bJECJvUrmtHJZGROiFcC/WuuldgN3RkgAFHzxd.8Sj7QZ3G";

std::string errorOf(const std::string& text) {
  try {
    parseWebConfig(text, "/etc/envprobe/web.yml");
  } catch (const WebConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("web config: basic auth users and TLS settings", "[web]") {
  const auto config = parseWebConfig(
      "basic_auth_users:\n"
      "  prometheus: '" + kHash + "'\n"
      "  grafana: '$2y$" + kHash.substr(4) + "'\n"
      "tls_server_config:\n"
      "  cert_file: tls/agent.crt\n"
      "  key_file: /etc/ssl/agent.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca.pem\n"
      "  min_version: TLS13\n",
      "/etc/envprobe/web.yml");
  REQUIRE(config.basicAuthUsers.size() == 2);
  CHECK(config.basicAuthUsers.at("prometheus") == kHash);
  REQUIRE(config.tls);
  CHECK(config.tls->certFile == "/etc/envprobe/tls/agent.crt");  // relative to the file
  CHECK(config.tls->keyFile == "/etc/ssl/agent.key");
  CHECK(config.tls->clientAuthType == "RequireAndVerifyClientCert");
  CHECK(config.tls->clientCaFile == "/etc/envprobe/ca.pem");
  CHECK(config.tls->minVersion == "TLS13");
  CHECK_FALSE(config.empty());
}

TEST_CASE("web config: an empty file means plain HTTP without auth", "[web]") {
  CHECK(parseWebConfig("", "web.yml").empty());
  CHECK(parseWebConfig("# nothing\n", "web.yml").empty());
  CHECK(parseWebConfig("basic_auth_users:\n", "web.yml").empty());
}

TEST_CASE("web config: unknown keys are errors with file:line:col", "[web]") {
  CHECK_THAT(errorOf("basic_auth_user:\n  a: b\n"),
             StartsWith("/etc/envprobe/web.yml:1:1: web config: unknown key \"basic_auth_user\""));
  CHECK_THAT(errorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  ciphers: x\n"),
             StartsWith("/etc/envprobe/web.yml:4:3: tls_server_config: unknown key \"ciphers\""));
}

TEST_CASE("web config: a password that is not a bcrypt hash is an error", "[web]") {
  CHECK_THAT(errorOf("basic_auth_users:\n  prometheus: hunter2\n"),
             StartsWith("/etc/envprobe/web.yml:2:15: basic_auth_users.prometheus: not a bcrypt hash"));
  CHECK_THAT(errorOf("basic_auth_users:\n  p: '$1$abc$" + std::string(40, 'x') + "'\n"),
             Contains("not a bcrypt hash"));
  CHECK_THAT(errorOf("basic_auth_users:\n  p: [a]\n"), Contains("basic_auth_users.p: must be a string"));
  CHECK_THAT(errorOf("basic_auth_users:\n  'a:b': '" + kHash + "'\n"), Contains("cannot contain ':'"));
  CHECK_THAT(errorOf("basic_auth_users:\n  a: '" + kHash + "'\n  a: '" + kHash + "'\n"),
             Contains("3:3: basic_auth_users.a: duplicate user"));
}

TEST_CASE("web config: bcrypt hash shapes", "[web]") {
  CHECK(envprobe::isBcryptHash(kHash));
  CHECK(envprobe::isBcryptHash("$2a$" + kHash.substr(4)));
  CHECK(envprobe::isBcryptHash("$2y$" + kHash.substr(4)));
  CHECK_FALSE(envprobe::isBcryptHash("$2x$" + kHash.substr(4)));
  CHECK_FALSE(envprobe::isBcryptHash("$2b$03$" + kHash.substr(7)));  // cost below 4
  CHECK_FALSE(envprobe::isBcryptHash("$2b$32$" + kHash.substr(7)));  // cost above 31
  CHECK_FALSE(envprobe::isBcryptHash(kHash.substr(0, 59)));
  CHECK_FALSE(envprobe::isBcryptHash(kHash.substr(0, 59) + "!"));
  CHECK_FALSE(envprobe::isBcryptHash(""));
}

TEST_CASE("web config: TLS needs both cert_file and key_file", "[web]") {
  CHECK_THAT(errorOf("tls_server_config:\n  cert_file: agent.crt\n"),
             StartsWith("/etc/envprobe/web.yml:2:3: tls_server_config: cert_file and key_file "
                        "must be given together (got only cert_file)"));
  CHECK_THAT(errorOf("tls_server_config:\n  key_file: agent.key\n"), Contains("got only key_file"));
  CHECK_THAT(errorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n"),
             Contains("4:16: tls_server_config.min_version: unknown value \"TLS14\""));
  CHECK_THAT(errorOf("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                     "  client_auth_type: RequireAndVerifyClientCert\n"),
             Contains("needs client_ca_file"));
}

TEST_CASE("web config: YAML syntax errors and files that cannot be read", "[web]") {
  CHECK_THAT(errorOf("basic_auth_users: [\n"), StartsWith("/etc/envprobe/web.yml:"));
  CHECK_THAT(errorOf("- a\n"), Contains("web config: must be a mapping"));
  TempDir dir;
  const std::string missing = (dir.path() / "missing.yml").string();
  CHECK_THROWS_WITH(loadWebConfig(missing), missing + ": cannot read the web config file");
  const std::string file = dir.write("web.yml", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n");
  CHECK_THROWS_WITH(loadWebConfig(file),
                    Contains("tls_server_config.cert_file: cannot read \"" +
                             (dir.path() / "a.crt").string() + "\""));
  const std::string ok = dir.write("ok.yml", "basic_auth_users: { p: '" + kHash + "' }\n");
  CHECK(loadWebConfig(ok).basicAuthUsers.count("p") == 1);
}
