#include "probe/metrics/probe_metrics.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "probe/catalog/catalog_expander.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "probe/metrics/ip_facts.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::AddressMode;
using envprobe::CatalogExpander;
using envprobe::ProbeMetrics;
using envprobe::ProbeResult;
using envprobe::Target;
using envprobe::testing::TempDir;
using prometheus::ClientMetric;
using prometheus::MetricFamily;

namespace {

std::vector<Target> expand(const std::string& yaml) {
  TempDir dir;
  auto loaded = envprobe::loadConfig(dir.write("agent.yaml", yaml));
  std::string errors;
  for (const auto& d : loaded.diagnostics.items()) errors += d.format() + "\n";
  INFO(errors);
  REQUIRE(loaded.ok());
  return CatalogExpander(loaded.config).expand(loaded.config.environment);
}

ProbeResult result(const Target& t, const std::string& address, const std::string& resolved) {
  ProbeResult r;
  r.target = envprobe::prepareTarget(t, nullptr);
  r.address = address;
  r.observation.resolvedAddress = resolved;
  r.verdict.ok = true;
  return r;
}

std::optional<std::string> label(const ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return std::nullopt;
}

const MetricFamily& family(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families)
    if (f.name == name) return f;
  FAIL("no family " << name);
  throw;
}

}  // namespace

// Colliding URLs: two checks on one URL, one hostname in two services under one check name,
// address_mode all (several addresses per target), pinned backends with two checks each.
TEST_CASE("probe metrics: count by (instance) is 1 for every series", "[probe_metrics][instance]") {
  const auto targets = expand(R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    address_mode: all
    hostnames: { internal: [web.local], public: [www.example.com] }
    checks:
      - { name: home, http: { scheme: https, path: / } }
      - { name: home-again, http: { scheme: https, path: / } }
      - { name: other, http: { scheme: https, path: /other } }
  - name: twin
    hostnames: { internal: [web.local], public: [] }
    checks: [{ name: home, http: { scheme: https, path: / } }]
  - name: pinned
    hostnames: { internal: [api.local], public: [] }
    backends: { at: ["127.0.0.1:8443", "127.0.0.2"] }
    checks:
      - { name: a, http: { scheme: https } }
      - { name: b, http: { scheme: https } }
)");
  REQUIRE(targets.size() == 2 * 3 + 1 + 2 * 2);
  ProbeMetrics metrics;
  std::size_t series = 0;
  for (const auto& t : targets) {
    if (!t.backend.empty()) {
      metrics.record(result(t, t.backend, "127.0.0.1"));
      ++series;
    } else if (t.addressMode == AddressMode::All) {
      for (const char* ip : {"127.0.0.1", "127.0.0.2", "::1"}) {
        metrics.record(result(t, ip, ip));
        ++series;
      }
    } else {
      metrics.record(result(t, "", "127.0.0.1"));
      ++series;
    }
  }
  REQUIRE(series == 2 * 3 * 3 + 1 + 2 * 2);
  const auto families = metrics.Collect();
  std::map<std::string, int> count;
  for (const auto& m : family(families, "probe_success").metric) ++count[*label(m, "instance")];
  CHECK(count.size() == series);
  for (const auto& [instance, n] : count) {
    INFO(instance);
    CHECK(n == 1);
  }
  CHECK(count.count("https://web.local/#web/home@::1") == 1);
  CHECK(count.count("https://web.local/#twin/home") == 1);
  CHECK(count.count("https://www.example.com/#home-again@127.0.0.2") == 1);
  CHECK(count.count("https://web.local/other@127.0.0.1") == 1);
  CHECK(count.count("https://api.local/#a@127.0.0.1:8443") == 1);
  CHECK(count.count("https://api.local/#b@127.0.0.2") == 1);
  // Every series of every family has the label.
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      INFO(f.name);
      CHECK(label(m, "instance"));
    }
  }
}

TEST_CASE("probe metrics: IP protocol and hash of the address probed", "[probe_metrics]") {
  const auto targets = expand(R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [web.local], public: [] }
    checks: [{ name: home, http: { scheme: http } }]
)");
  REQUIRE(targets.size() == 1);
  ProbeMetrics metrics;
  const std::string resolved = GENERATE(as<std::string>{}, "10.0.0.1", "fd00::3", "");
  metrics.record(result(targets[0], "", resolved));
  const auto families = metrics.Collect();
  const auto& protocol = family(families, "probe_ip_protocol").metric.at(0).gauge.value;
  const auto& hash = family(families, "probe_ip_addr_hash").metric.at(0).gauge.value;
  if (resolved == "10.0.0.1") {
    CHECK(protocol == 4);
    CHECK(hash == 1817209388.0);
  } else if (resolved == "fd00::3") {
    CHECK(protocol == 6);
    CHECK(hash == 2516738033.0);
  } else {  // the name never resolved
    CHECK(protocol == 0);
    CHECK(hash == 0);
  }
}

TEST_CASE("probe metrics: TLS series only for a TLS response", "[probe_metrics]") {
  const auto targets = expand(R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [web.local], public: [] }
    checks: [{ name: home, http: { scheme: https } }]
)");
  ProbeMetrics metrics;
  auto r = result(targets.at(0), "", "10.0.0.1");
  r.observation.uncompressedBodyLength = 1234;
  metrics.record(r);
  auto families = metrics.Collect();
  CHECK(family(families, "probe_http_uncompressed_body_length").metric.at(0).gauge.value == 1234);
  CHECK(family(families, "probe_tls_version_info").metric.empty());
  CHECK(family(families, "probe_ssl_last_chain_info").metric.empty());
  CHECK(family(families, "probe_ssl_last_chain_expiry_timestamp_seconds").metric.empty());

  auto& tls = r.observation.tls;
  tls.present = true;
  tls.version = "TLS 1.3";
  tls.fingerprintSha256 = "ab01";
  tls.subject = "CN=web.local";
  tls.issuer = "CN=test CA,O=envprobe";
  tls.subjectAlternative = "web.local,www.local";
  tls.serialNumber = "1a2b";
  metrics.record(r);  // insecure_skip_verify and an untrusted chain: no verified chain
  families = metrics.Collect();
  const auto& version = family(families, "probe_tls_version_info").metric.at(0);
  CHECK(*label(version, "version") == "TLS 1.3");
  CHECK(version.gauge.value == 1);
  const auto& info = family(families, "probe_ssl_last_chain_info").metric.at(0);
  CHECK(*label(info, "fingerprint_sha256") == "ab01");
  CHECK(*label(info, "subject") == "CN=web.local");
  CHECK(*label(info, "issuer") == "CN=test CA,O=envprobe");
  CHECK(*label(info, "subjectalternative") == "web.local,www.local");
  CHECK(*label(info, "serialnumber") == "1a2b");
  CHECK(*label(info, "instance") == "https://web.local/");
  CHECK(family(families, "probe_ssl_last_chain_expiry_timestamp_seconds").metric.empty());

  tls.chainVerified = true;
  tls.lastChainExpiryUnix = 1900000000;
  metrics.record(r);
  families = metrics.Collect();
  CHECK(
      family(families, "probe_ssl_last_chain_expiry_timestamp_seconds").metric.at(0).gauge.value ==
      1900000000.0);
}

TEST_CASE("ip facts: blackbox_exporter's protocol and fnv32a over the address bytes",
          "[probe_metrics]") {
  CHECK(envprobe::fnv32a("") == 2166136261u);
  CHECK(envprobe::fnv32a("a") == 0xe40c292cu);
  const auto v4 = envprobe::ipFacts("127.0.0.1");
  REQUIRE(v4);
  CHECK(v4->protocol == 4);
  CHECK(v4->hash == 3668918509u);
  for (const char* v6 : {"::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
    INFO(v6);
    const auto f = envprobe::ipFacts(v6);
    REQUIRE(f);
    CHECK(f->protocol == 6);
    CHECK(f->hash == 1751717746u);
  }
  const auto mapped = envprobe::ipFacts("::ffff:127.0.0.1");  // Go's To4(): the IPv4 address
  REQUIRE(mapped);
  CHECK(mapped->protocol == 4);
  CHECK(mapped->hash == 3668918509u);
  for (const char* not_ip : {"", "web.local", "10.0.0.1:443", "[::1", "10.0.0.256", "1.2.3"}) {
    INFO(not_ip);
    CHECK_FALSE(envprobe::ipFacts(not_ip));
  }
}
