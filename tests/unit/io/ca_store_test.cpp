// The shared CA stores of HTTPS probes: one parse per CA file, a changed file reloaded after the
// recheck interval, a failed file reported with curl's message and retried, the default CA
// directory trusted as curl trusts it. Certificates are made here; time is a manual clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "probe/io/ca_store.hpp"
#include "test_files.hpp"
#include "web/tls_test_pki.hpp"

using namespace envprobe;
using envprobe::testing::makeCert;
using envprobe::testing::TempDir;
using envprobe::testing::writeCert;

namespace {

struct ManualClock {
  CaStores::Clock::time_point now{};
  std::function<CaStores::Clock::time_point()> fn() {
    return [this] { return now; };
  }
};

// Whether `leaf` chains to a trust anchor of `store` (dates and signatures checked by OpenSSL).
bool verifies(X509_STORE* store, X509* leaf) {
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  const int ok = X509_verify_cert(ctx);
  X509_STORE_CTX_free(ctx);
  return ok == 1;
}

// Replaces `path` by a new file (a new inode, as a package update or an atomic rename does).
void replaceWith(const std::string& path, X509* cert) {
  const std::string next = path + ".next";
  writeCert(next, cert);
  std::filesystem::rename(next, path);
}

struct Pki {
  std::unique_ptr<envprobe::testing::KeyAndCert> caA = makeCert("CA A", nullptr, true);
  std::unique_ptr<envprobe::testing::KeyAndCert> caB = makeCert("CA B", nullptr, true);
  std::unique_ptr<envprobe::testing::KeyAndCert> leafA =
      makeCert("a.test", caA.get(), false, "DNS:a.test", 2);
  std::unique_ptr<envprobe::testing::KeyAndCert> leafB =
      makeCert("b.test", caB.get(), false, "DNS:b.test", 3);
};

}  // namespace

TEST_CASE("ca stores: a CA file is parsed once and shared", "[io][ca_store]") {
  TempDir dir;
  Pki pki;
  const std::string a = (dir.path() / "a.pem").string(), b = (dir.path() / "b.pem").string();
  writeCert(a, pki.caA->cert);
  writeCert(b, pki.caB->cert);
  ManualClock clock;
  CaStores stores({a, ""}, std::chrono::seconds(5), clock.fn());

  std::string error;
  X509_STORE* first = stores.acquire(a, error);
  X509_STORE* again = stores.acquire(a, error);
  X509_STORE* other = stores.acquire(b, error);
  X509_STORE* byDefault = stores.acquire("", error);  // the default bundle is a.pem here
  REQUIRE(first);
  CHECK(again == first);
  CHECK(byDefault == first);
  REQUIRE(other);
  CHECK(other != first);
  CHECK(error.empty());
  // Alternating files, as checks with different CAs do, parses nothing again.
  for (int i = 0; i < 10; ++i) {
    X509_STORE_free(stores.acquire(a, error));
    X509_STORE_free(stores.acquire(b, error));
  }
  CHECK(stores.loads() == 2);

  CHECK(verifies(first, pki.leafA->cert));
  CHECK_FALSE(verifies(first, pki.leafB->cert));
  CHECK(verifies(other, pki.leafB->cert));
  // curl's verify flags: trusted issuers first, an intermediate in the file is an anchor.
  const unsigned long flags = X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(first));
  CHECK((flags & X509_V_FLAG_TRUSTED_FIRST) != 0);
  CHECK((flags & X509_V_FLAG_PARTIAL_CHAIN) != 0);
  for (X509_STORE* s : {first, again, other, byDefault}) X509_STORE_free(s);
}

TEST_CASE("ca stores: a replaced CA file is picked up after the recheck interval",
          "[io][ca_store]") {
  TempDir dir;
  Pki pki;
  const std::string path = (dir.path() / "ca.pem").string();
  writeCert(path, pki.caA->cert);
  ManualClock clock;
  CaStores stores({}, std::chrono::seconds(5), clock.fn());
  std::string error;

  X509_STORE* before = stores.acquire(path, error);
  REQUIRE(before);
  replaceWith(path, pki.caB->cert);
  clock.now += std::chrono::seconds(4);
  X509_STORE* tooSoon = stores.acquire(path, error);
  CHECK(tooSoon == before);  // not looked at before the interval
  CHECK(stores.loads() == 1);

  clock.now += std::chrono::seconds(1);
  X509_STORE* after = stores.acquire(path, error);
  REQUIRE(after);
  CHECK(after != before);
  CHECK(stores.loads() == 2);
  CHECK(verifies(after, pki.leafB->cert));
  CHECK_FALSE(verifies(after, pki.leafA->cert));
  // A probe that started with the old store keeps it, intact.
  CHECK(verifies(before, pki.leafA->cert));

  // Unchanged after another interval: looked at (stat), not parsed again.
  clock.now += std::chrono::seconds(30);
  X509_STORE* same = stores.acquire(path, error);
  CHECK(same == after);
  CHECK(stores.loads() == 2);

  // Rewritten in place (same inode): the change of size or times is seen.
  {
    std::ofstream out(path, std::ios::app);
    out << "\n";
  }
  clock.now += std::chrono::seconds(5);
  X509_STORE* rewritten = stores.acquire(path, error);
  CHECK(rewritten != after);
  CHECK(stores.loads() == 3);
  for (X509_STORE* s : {before, tooSoon, after, same, rewritten}) X509_STORE_free(s);
}

TEST_CASE("ca stores: a CA file that cannot be loaded fails like curl, and is retried",
          "[io][ca_store]") {
  TempDir dir;
  Pki pki;
  const std::string path = (dir.path() / "missing.pem").string();
  ManualClock clock;
  CaStores stores({}, std::chrono::seconds(5), clock.fn());
  std::string error;

  CHECK(stores.acquire(path, error) == nullptr);
  CHECK(error == "error setting certificate file: " + path);
  const std::string garbage = dir.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n");
  error.clear();
  CHECK(stores.acquire(garbage, error) == nullptr);
  CHECK(error == "error setting certificate file: " + garbage);
  const std::size_t loads = stores.loads();
  // Unchanged: not parsed again.
  CHECK(stores.acquire(path, error) == nullptr);
  CHECK(stores.loads() == loads);

  // Once the file is there it is used at once, without waiting for the interval.
  writeCert(path, pki.caA->cert);
  error.clear();
  X509_STORE* store = stores.acquire(path, error);
  REQUIRE(store);
  CHECK(error.empty());
  CHECK(verifies(store, pki.leafA->cert));
  X509_STORE_free(store);

  // No default bundle and no file named: nothing to trust, said so.
  CHECK_FALSE(stores.covers(""));
  CHECK(stores.covers(path));
  CHECK(stores.acquire("", error) == nullptr);
  CHECK(error.find("no CA file") != std::string::npos);
}

TEST_CASE("ca stores: the default CA directory is trusted as curl trusts it", "[io][ca_store]") {
  TempDir dir;
  Pki pki;
  // An OpenSSL hashed directory holding CA B; the bundle holds CA A only.
  const std::filesystem::path hashed = dir.path() / "certs";
  std::filesystem::create_directories(hashed);
  char name[32];
  std::snprintf(name, sizeof name, "%08lx.0", X509_subject_name_hash(pki.caB->cert));
  writeCert((hashed / name).string(), pki.caB->cert);
  const std::string bundle = (dir.path() / "bundle.pem").string();
  writeCert(bundle, pki.caA->cert);
  ManualClock clock;
  CaStores stores({bundle, hashed.string()}, std::chrono::seconds(5), clock.fn());
  std::string error;

  X509_STORE* store = stores.acquire("", error);
  REQUIRE(store);
  CHECK(verifies(store, pki.leafA->cert));  // from the bundle
  CHECK(verifies(store, pki.leafB->cert));  // from the directory
  X509_STORE_free(store);
}

TEST_CASE("ca stores: a CA file no check uses any more is dropped", "[io][ca_store]") {
  TempDir dir;
  Pki pki;
  const std::string a = (dir.path() / "a.pem").string(), b = (dir.path() / "b.pem").string();
  writeCert(a, pki.caA->cert);
  writeCert(b, pki.caB->cert);
  ManualClock clock;
  CaStores stores({}, std::chrono::seconds(5), clock.fn());
  std::string error;
  X509_STORE_free(stores.acquire(a, error));
  clock.now += CaStores::kIdle - std::chrono::seconds(1);
  X509_STORE_free(stores.acquire(b, error));
  CHECK(stores.size() == 2);
  clock.now += std::chrono::seconds(5);  // idle long enough, and a sweep is due (every recheck)
  X509_STORE_free(stores.acquire(b, error));
  CHECK(stores.size() == 1);
  X509_STORE_free(stores.acquire(a, error));  // used again: loaded again
  CHECK(stores.size() == 2);
  CHECK(stores.loads() == 3);
}
