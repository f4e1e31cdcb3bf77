#include "probe/catalog/catalog_expander.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::AddressMode;
using envprobe::AgentConfig;
using envprobe::CatalogExpander;
using envprobe::HostnameSpec;
using envprobe::Target;
using envprobe::Tier;
using envprobe::Visibility;
using envprobe::testing::TempDir;
using namespace std::chrono_literals;

namespace {

AgentConfig loadOk(const std::string& path) {
  auto r = envprobe::loadConfig(path);
  std::string errors;
  for (const auto& d : r.diagnostics.items()) errors += d.format() + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return std::move(r.config);
}

AgentConfig loadText(const TempDir& dir, const std::string& text) {
  return loadOk(dir.write("agent.yaml", text));
}

AgentConfig loadExample(const std::string& name) {
  return loadOk(std::string(ENVPROBE_SOURCE_DIR) + "/config/" + name + ".yaml");
}

std::map<std::string, std::size_t> countByService(const std::vector<Target>& targets) {
  std::map<std::string, std::size_t> out;
  for (const auto& t : targets) ++out[t.service];
  return out;
}

std::vector<std::string> ids(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) out.push_back(t.id);
  return out;
}

const Target& byId(const std::vector<Target>& targets, const std::string& id) {
  auto it =
      std::find_if(targets.begin(), targets.end(), [&](const Target& t) { return t.id == id; });
  INFO("target id " << id);
  REQUIRE(it != targets.end());
  return *it;
}

}  // namespace

// config/services.yaml, counted by hand (hostnames x backends x checks):
//   shop:       at: (1 internal + 1 public) x 2 backends x 2 checks = 8
//               prod: (1 + 2) x 2 = 6;  dev: (1 + 0) x 2 = 2
//   orders-api: every env: (1 + 1) x 2 checks = 4
//   admin:      every env: (1 + 0) x 1 check = 1
TEST_CASE("catalog expander: config/at.yaml expands to the hand-counted targets", "[expand]") {
  const AgentConfig config = loadExample("at");
  const CatalogExpander expander(config);
  const auto at = expander.expand("at");
  CHECK(at.size() == 13);
  CHECK(countByService(at) ==
        std::map<std::string, std::size_t>{{"shop", 8}, {"orders-api", 4}, {"admin", 1}});
  CHECK(countByService(expander.expand("prod")) ==
        std::map<std::string, std::size_t>{{"shop", 6}, {"orders-api", 4}, {"admin", 1}});
  CHECK(countByService(expander.expand("dev")) ==
        std::map<std::string, std::size_t>{{"shop", 2}, {"orders-api", 4}, {"admin", 1}});
  for (const auto& t : at) {
    CHECK(t.env == "at");
    CHECK(t.tier == Tier::NonProd);
  }
  for (const auto& t : expander.expand("prod")) CHECK(t.tier == Tier::Prod);
}

TEST_CASE("catalog expander: the at targets of config/services.yaml in detail", "[expand]") {
  const auto at = CatalogExpander(loadExample("at")).expand("at");
  const auto& home = byId(at, "at/shop/home/public/shop-at.example.com@10.0.1.6:443");
  CHECK(home.hostname == "shop-at.example.com");
  CHECK(home.visibility == Visibility::Public);
  CHECK(home.backend == "10.0.1.6:443");
  CHECK(home.url == "https://shop-at.example.com/");
  CHECK(home.port == 443);
  CHECK(home.interval == 30s);
  CHECK(home.timeout == 10s);
  REQUIRE(home.http);
  CHECK(home.http->expect.bodyContains == std::vector<std::string>{"<title>Shop"});
  const auto& health = byId(at, "at/shop/health/internal/shop.at.local@10.0.1.5:443");
  CHECK(health.url == "https://shop.at.local/healthz");
  CHECK(health.interval == 15s);
  CHECK(health.timeout == 5s);
  const auto& admin = byId(at, "at/admin/login-page/internal/admin.at.local");
  CHECK(admin.url == "http://admin.at.local:8080/login");
  CHECK(admin.port == 8080);
  CHECK(admin.backend.empty());
  const auto& orders = byId(at, "at/orders-api/version/public/api-at.example.com");
  CHECK(orders.url == "https://api-at.example.com/version");
}

TEST_CASE("catalog expander: {env} expands in the list form", "[expand]") {
  HostnameSpec spec;
  spec.declared = true;
  spec.all = {"shop.{env}.local", "{env}-{env}.example.com", "static.example.com"};
  CHECK(envprobe::hostnamesFor(spec, "at") ==
        std::vector<std::string>{"shop.at.local", "at-at.example.com", "static.example.com"});
  CHECK(envprobe::hostnamesFor(spec, "prod") ==
        std::vector<std::string>{"shop.prod.local", "prod-prod.example.com", "static.example.com"});
  CHECK(envprobe::speaksFor(spec, "at"));
  CHECK(envprobe::speaksFor(spec, "anything"));
}

TEST_CASE("catalog expander: the map form gives each environment its own list", "[expand]") {
  HostnameSpec spec;
  spec.declared = true;
  spec.perEnvironment = true;
  spec.byEnv["prod"] = {"shop.example.com", "www.example.com"};
  spec.byEnv["at"] = {"shop-{env}.example.com"};
  spec.byEnv["dev"] = {};
  CHECK(envprobe::hostnamesFor(spec, "prod") ==
        std::vector<std::string>{"shop.example.com", "www.example.com"});
  CHECK(envprobe::hostnamesFor(spec, "at") == std::vector<std::string>{"shop-at.example.com"});
  CHECK(envprobe::hostnamesFor(spec, "dev").empty());
  CHECK(envprobe::hostnamesFor(spec, "qa").empty());
  CHECK(envprobe::speaksFor(spec, "dev"));  // an explicit empty list speaks
  CHECK_FALSE(envprobe::speaksFor(spec, "qa"));
  CHECK_FALSE(envprobe::speaksFor(HostnameSpec{}, "at"));  // key absent altogether
}

TEST_CASE("catalog expander: backends multiply hostnames x backends x checks", "[expand]") {
  TempDir dir;
  const auto config = loadText(dir, R"(environment: at
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public: { at: [web-at.example.com], prod: [web.example.com] }
    backends:
      at: ["10.0.0.1:443", "10.0.0.2:443", "[fd00::3]:443"]
    checks:
      - name: home
        http: { path: / }
      - name: health
        http: { path: /healthz }
)");
  const CatalogExpander expander(config);
  const auto at = expander.expand("at");
  REQUIRE(at.size() == 2 * 3 * 2);
  std::set<std::string> combos;
  for (const auto& t : at) combos.insert(t.check + " " + t.hostname + " " + t.backend);
  CHECK(combos.size() == 12);
  for (const char* check : {"home", "health"})
    for (const char* host : {"web.at.local", "web-at.example.com"})
      for (const char* backend : {"10.0.0.1:443", "10.0.0.2:443", "[fd00::3]:443"})
        CHECK(combos.count(std::string(check) + " " + host + " " + backend) == 1);
  // A pinned target keeps the hostname in its URL: Host header and SNI stay the real name.
  const auto& pinned = byId(at, "at/web/home/public/web-at.example.com@[fd00::3]:443");
  CHECK(pinned.url == "https://web-at.example.com/");
  // No backends listed for prod: one target per hostname, resolved normally.
  const auto prod = expander.expand("prod");
  REQUIRE(prod.size() == 2 * 2);
  for (const auto& t : prod) CHECK(t.backend.empty());
}

TEST_CASE("catalog expander: targets come out in catalog order", "[expand]") {
  TempDir dir;
  const auto config = loadText(dir, R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [a.local, b.local], public: [c.example.com] }
    backends: { at: ["10.0.0.1:80", "10.0.0.2:80"] }
    checks: [{ name: home, http: { scheme: http } }]
)");
  CHECK(ids(CatalogExpander(config).expand("at")) ==
        std::vector<std::string>{"at/web/home/internal/a.local@10.0.0.1:80",
                                 "at/web/home/internal/a.local@10.0.0.2:80",
                                 "at/web/home/internal/b.local@10.0.0.1:80",
                                 "at/web/home/internal/b.local@10.0.0.2:80",
                                 "at/web/home/public/c.example.com@10.0.0.1:80",
                                 "at/web/home/public/c.example.com@10.0.0.2:80"});
}

TEST_CASE("catalog expander: URLs carry a port only when it is not the scheme's default",
          "[expand]") {
  TempDir dir;
  const auto config = loadText(dir, R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [h.local], public: [] }
    checks:
      - { name: https-default, http: { scheme: https, path: /a } }
      - { name: https-443, http: { scheme: https, port: 443, path: /b } }
      - { name: https-8443, http: { scheme: https, port: 8443, path: /c } }
      - { name: http-default, http: { scheme: http, path: "/d?x=1" } }
      - { name: http-80, http: { scheme: http, port: 80 } }
      - { name: http-443, http: { scheme: http, port: 443, path: /f } }
)");
  const auto at = CatalogExpander(config).expand("at");
  REQUIRE(at.size() == 6);
  std::map<std::string, std::pair<std::string, int>> got;
  for (const auto& t : at) got[t.check] = {t.url, t.port};
  CHECK(got["https-default"] == std::pair<std::string, int>{"https://h.local/a", 443});
  CHECK(got["https-443"] == std::pair<std::string, int>{"https://h.local/b", 443});
  CHECK(got["https-8443"] == std::pair<std::string, int>{"https://h.local:8443/c", 8443});
  CHECK(got["http-default"] == std::pair<std::string, int>{"http://h.local/d?x=1", 80});
  CHECK(got["http-80"] == std::pair<std::string, int>{"http://h.local/", 80});
  CHECK(got["http-443"] == std::pair<std::string, int>{"http://h.local:443/f", 443});
}

TEST_CASE("catalog expander: interval, timeout and address mode come from check, service or "
          "defaults", "[expand]") {
  TempDir dir;
  const auto config = loadText(dir, R"(environment: at
defaults: { interval: 1m, timeout: 20s, address_mode: all }
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [h.local], public: [] }
    checks:
      - { name: plain, http: {} }
      - { name: fast, interval: 10s, timeout: 2s, http: {} }
      - { name: only-timeout, timeout: 500ms, http: {} }
  - name: api
    address_mode: first
    hostnames: { internal: [api.local], public: [] }
    checks: [{ name: plain, interval: 1h30m, http: {} }]
)");
  const auto at = CatalogExpander(config).expand("at");
  REQUIRE(at.size() == 4);
  const auto& plain = byId(at, "at/web/plain/internal/h.local");
  CHECK(plain.interval == 1min);
  CHECK(plain.timeout == 20s);
  CHECK(plain.addressMode == AddressMode::All);
  const auto& fast = byId(at, "at/web/fast/internal/h.local");
  CHECK(fast.interval == 10s);
  CHECK(fast.timeout == 2s);
  const auto& onlyTimeout = byId(at, "at/web/only-timeout/internal/h.local");
  CHECK(onlyTimeout.interval == 1min);
  CHECK(onlyTimeout.timeout == 500ms);
  const auto& api = byId(at, "at/api/plain/internal/api.local");
  CHECK(api.interval == 90min);
  CHECK(api.timeout == 20s);
  CHECK(api.addressMode == AddressMode::First);
}

TEST_CASE("catalog expander: ids are stable and unique", "[expand]") {
  const std::string name = GENERATE(as<std::string>{}, "dev", "at", "prod");
  const auto first = CatalogExpander(loadExample(name)).expand(name);
  const auto second = CatalogExpander(loadExample(name)).expand(name);
  REQUIRE_FALSE(first.empty());
  CHECK(ids(first) == ids(second));
  const auto all = ids(first);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
  for (const auto& id : all) CHECK_THAT(id, Catch::StartsWith(name + "/"));
}

TEST_CASE("catalog expander: a service with no hostnames in the environment has no targets",
          "[expand]") {
  TempDir dir;
  const auto config = loadText(dir, R"(environment: at
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: web
    hostnames:
      internal: []
      public: { prod: [web.example.com], at: [] }
    backends: { at: ["10.0.0.1:443"] }
    checks: [{ name: home, http: {} }]
)");
  const CatalogExpander expander(config);
  CHECK(expander.expand("at").empty());
  CHECK(expander.expandService(config.catalog.services.at(0), "prod").size() == 1);
}
