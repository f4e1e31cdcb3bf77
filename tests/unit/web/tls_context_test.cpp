#include "probe/web/tls_context.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "tests/unit/test_files.hpp"
#include "tests/unit/web/tls_test_pki.hpp"

using Catch::Matchers::Contains;
using envprobe::clientAuthMode;
using envprobe::makeServerContext;
using envprobe::tlsConfigError;
using envprobe::TlsContextSource;
using envprobe::TlsServerConfig;
using envprobe::tlsVersionNumber;
using envprobe::testing::makeCert;
using envprobe::testing::servedCommonName;
using envprobe::testing::TempDir;
using envprobe::testing::writeCert;
using envprobe::testing::writeKey;

namespace {

std::string errorOf(const TlsServerConfig& tls) {
  try {
    makeServerContext(tls);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no error>";
}

// A self-signed server certificate for `cn` in dir/name.crt and dir/name.key.
TlsServerConfig selfSigned(const TempDir& dir, const std::string& name, const std::string& cn) {
  const auto leaf = makeCert(cn, nullptr, false, "IP:127.0.0.1");
  TlsServerConfig tls;
  tls.certFile = (dir.path() / (name + ".crt")).string();
  tls.keyFile = (dir.path() / (name + ".key")).string();
  writeCert(tls.certFile, leaf->cert);
  writeKey(tls.keyFile, leaf->key);
  return tls;
}

}  // namespace

TEST_CASE("tls context: version names and what this build refuses", "[web][tls]") {
  CHECK(tlsVersionNumber("TLS12") == TLS1_2_VERSION);
  CHECK(tlsVersionNumber("TLS13") == TLS1_3_VERSION);
  CHECK(tlsVersionNumber("TLS10") == TLS1_VERSION);
  CHECK(tlsVersionNumber("") == 0);
  CHECK(tlsVersionNumber("tls12") == 0);

  TlsServerConfig tls;
  CHECK_FALSE(tlsConfigError(tls));
  tls.minVersion = "TLS13";
  CHECK_FALSE(tlsConfigError(tls));
  tls.maxVersion = "TLS12";
  CHECK(tlsConfigError(tls).value_or("") ==
        "tls_server_config: min_version TLS13 is above max_version TLS12");
  tls.minVersion = "TLS10";
  CHECK_THAT(tlsConfigError(tls).value_or(""),
             Contains("tls_server_config.min_version TLS10: not available") &&
                 Contains("use TLS12 or TLS13"));
  tls.minVersion = "TLS12";
  tls.maxVersion = "TLS11";
  CHECK_THAT(tlsConfigError(tls).value_or(""), Contains("tls_server_config.max_version TLS11"));
}

TEST_CASE("tls context: client_auth_type as Go's tls.ClientAuthType", "[web][tls]") {
  const auto none = clientAuthMode("NoClientCert");
  CHECK_FALSE(none.request);
  const auto request = clientAuthMode("RequestClientCert");
  CHECK((request.request && !request.require && !request.verifyChain));
  const auto any = clientAuthMode("RequireAnyClientCert");
  CHECK((any.request && any.require && !any.verifyChain));
  const auto ifGiven = clientAuthMode("VerifyClientCertIfGiven");
  CHECK((ifGiven.request && !ifGiven.require && ifGiven.verifyChain));
  const auto strict = clientAuthMode("RequireAndVerifyClientCert");
  CHECK((strict.request && strict.require && strict.verifyChain));
}

TEST_CASE("tls context: unusable files are refused naming the setting and the file", "[web][tls]") {
  TempDir dir;
  const TlsServerConfig good = selfSigned(dir, "a", "a.test");
  CHECK(errorOf(good) == "<no error>");

  TlsServerConfig missing = good;
  missing.certFile = (dir.path() / "nope.crt").string();
  CHECK_THAT(errorOf(missing),
             Contains("tls_server_config.cert_file \"" + missing.certFile + "\": cannot load") &&
                 Contains("No such file or directory"));

  TlsServerConfig garbage = good;
  garbage.certFile = dir.write("garbage.crt", "not a certificate\n");
  CHECK_THAT(errorOf(garbage), Contains("tls_server_config.cert_file"));

  const TlsServerConfig other = selfSigned(dir, "b", "b.test");
  TlsServerConfig mismatch = good;
  mismatch.keyFile = other.keyFile;
  CHECK_THAT(errorOf(mismatch), Contains("does not match cert_file"));

  // An encrypted key fails to load instead of prompting for a password on the terminal.
  const auto leaf = makeCert("c.test", nullptr, false, "IP:127.0.0.1");
  TlsServerConfig encrypted;
  encrypted.certFile = (dir.path() / "c.crt").string();
  encrypted.keyFile = (dir.path() / "c.key").string();
  writeCert(encrypted.certFile, leaf->cert);
  writeKey(encrypted.keyFile, leaf->key, "secret");
  CHECK_THAT(errorOf(encrypted), Contains("tls_server_config.key_file \"" + encrypted.keyFile +
                                          "\": cannot load an unencrypted PEM private key"));

  TlsServerConfig noCa = good;
  noCa.clientAuthType = "RequireAndVerifyClientCert";
  noCa.clientCaFile = (dir.path() / "ca.pem").string();
  CHECK_THAT(errorOf(noCa), Contains("tls_server_config.client_ca_file"));

  TlsServerConfig old = good;
  old.maxVersion = "TLS11";
  CHECK_THAT(errorOf(old), Contains("max_version TLS11: not available"));
}

TEST_CASE("tls context: a rotated certificate is served after the next look", "[web][tls]") {
  TempDir dir;
  const TlsServerConfig tls = selfSigned(dir, "served", "first.test");
  TlsContextSource source(tls, std::chrono::seconds(1));
  const auto t0 = TlsContextSource::Clock::time_point{} + std::chrono::hours(1);
  CHECK(servedCommonName(source.current(t0)) == "first.test");

  // Rotation the usual way: new files renamed over the old ones.
  const TlsServerConfig next = selfSigned(dir, "next", "second.test");
  std::filesystem::rename(next.certFile, tls.certFile);
  std::filesystem::rename(next.keyFile, tls.keyFile);
  CHECK(servedCommonName(source.current(t0 + std::chrono::milliseconds(500))) == "first.test");
  CHECK(servedCommonName(source.current(t0 + std::chrono::seconds(1))) == "second.test");
  CHECK(source.reloads() == 1);

  // A half-done rotation (a new certificate, the old key) keeps the last good context, and is
  // tried again at the next look: once the key arrives, the new certificate is served.
  const TlsServerConfig third = selfSigned(dir, "third", "third.test");
  std::filesystem::rename(third.certFile, tls.certFile);
  CHECK(servedCommonName(source.current(t0 + std::chrono::seconds(2))) == "second.test");
  CHECK(servedCommonName(source.current(t0 + std::chrono::seconds(3))) == "second.test");
  std::filesystem::rename(third.keyFile, tls.keyFile);
  CHECK(servedCommonName(source.current(t0 + std::chrono::seconds(4))) == "third.test");
  CHECK(source.reloads() == 2);

  // Nothing changed: the same context.
  SSL_CTX* same = source.current(t0 + std::chrono::seconds(5));
  CHECK(source.current(t0 + std::chrono::seconds(6)) == same);
}
