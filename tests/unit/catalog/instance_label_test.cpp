#include "probe/catalog/instance_label.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "probe/catalog/catalog_expander.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::AddressMode;
using envprobe::assignInstances;
using envprobe::CatalogExpander;
using envprobe::seriesInstance;
using envprobe::Target;
using envprobe::Visibility;
using envprobe::testing::TempDir;

namespace {

Target target(const std::string& service, const std::string& check, const std::string& url,
              const std::string& backend = "", AddressMode mode = AddressMode::First,
              Visibility visibility = Visibility::Internal) {
  Target t;
  t.env = "at";
  t.service = service;
  t.check = check;
  t.url = url;
  t.backend = backend;
  t.addressMode = mode;
  t.visibility = visibility;
  t.id = "at/" + service + "/" + check + "/" + envprobe::toString(visibility) + "/h" +
         (backend.empty() ? "" : "@" + backend);
  return t;
}

std::vector<std::string> instances(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) out.push_back(envprobe::instanceOf(t));
  return out;
}

}  // namespace

TEST_CASE("instance: the redacted URL when it is the target's own", "[instance]") {
  std::vector<Target> targets = {
      target("web", "home", "https://h.local/"),
      target("web", "search", "https://user:pw@h.local/find?q=x&token=secret"),
      target("web", "health", "http://h.local:8080/healthz")};
  assignInstances(targets);
  CHECK(instances(targets) ==
        std::vector<std::string>{"https://h.local/",
                                 "https://<redacted>@h.local/find?q=<redacted>&token=<redacted>",
                                 "http://h.local:8080/healthz"});
  CHECK(seriesInstance(targets[0], "") == "https://h.local/");
  CHECK(seriesInstance(targets[0], "10.0.0.7") == "https://h.local/@10.0.0.7");
}

TEST_CASE("instance: #check only where the URL alone would collide", "[instance]") {
  std::vector<Target> targets = {target("web", "home", "https://h.local/"),
                                 target("web", "home-json", "https://h.local/"),
                                 target("web", "other", "https://h.local/other")};
  assignInstances(targets);
  CHECK(instances(targets) == std::vector<std::string>{"https://h.local/#home",
                                                       "https://h.local/#home-json",
                                                       "https://h.local/other"});
}

TEST_CASE("instance: pinned backends are told apart by the address", "[instance]") {
  std::vector<Target> targets = {target("web", "home", "https://h.local/", "10.0.0.1:443"),
                                 target("web", "home", "https://h.local/", "10.0.0.2:443")};
  assignInstances(targets);
  CHECK(instances(targets) == std::vector<std::string>{"https://h.local/", "https://h.local/"});
  CHECK(seriesInstance(targets[0], "10.0.0.1:443") == "https://h.local/@10.0.0.1:443");
  CHECK(seriesInstance(targets[1], "10.0.0.2:443") == "https://h.local/@10.0.0.2:443");
  // Two checks on the same pinned URL need the check as well.
  targets.push_back(target("web", "health", "https://h.local/", "10.0.0.1:443"));
  assignInstances(targets);
  CHECK(instances(targets) == std::vector<std::string>{"https://h.local/#home",
                                                       "https://h.local/#home",
                                                       "https://h.local/#health"});
}

TEST_CASE("instance: address_mode all next to a pinned target on the same URL", "[instance]") {
  // The unpinned target's addresses are known only at run time: one may equal a backend.
  std::vector<Target> targets = {target("a", "home", "https://h.local/", "", AddressMode::All),
                                 target("b", "main", "https://h.local/", "10.0.0.1")};
  assignInstances(targets);
  CHECK(instances(targets) ==
        std::vector<std::string>{"https://h.local/#home", "https://h.local/#main"});
}

TEST_CASE("instance: the service and then the visibility when the check name is shared too",
          "[instance]") {
  std::vector<Target> targets = {target("web", "home", "https://h.local/"),
                                 target("twin", "home", "https://h.local/")};
  assignInstances(targets);
  CHECK(instances(targets) ==
        std::vector<std::string>{"https://h.local/#web/home", "https://h.local/#twin/home"});
  std::vector<Target> both = {
      target("web", "home", "https://h.local/", "", AddressMode::First, Visibility::Internal),
      target("web", "home", "https://h.local/", "", AddressMode::First, Visibility::Public)};
  assignInstances(both);
  CHECK(instances(both) == std::vector<std::string>{"https://h.local/#web/home/internal",
                                                    "https://h.local/#web/home/public"});
}

TEST_CASE("instance: the same targets in another order get the same values", "[instance]") {
  std::vector<Target> targets = {target("web", "home", "https://h.local/"),
                                 target("web", "other", "https://h.local/"),
                                 target("web", "x", "https://x.local/")};
  std::vector<Target> reversed(targets.rbegin(), targets.rend());
  assignInstances(targets);
  assignInstances(reversed);
  std::map<std::string, std::string> a, b;
  for (const auto& t : targets) a[t.id] = envprobe::instanceOf(t);
  for (const auto& t : reversed) b[t.id] = envprobe::instanceOf(t);
  CHECK(a == b);
}

TEST_CASE("instance: the catalog expansion assigns them", "[instance][expand]") {
  TempDir dir;
  auto loaded = envprobe::loadConfig(dir.write("agent.yaml", R"(environment: at
environments: { at: { tier: nonprod } }
services:
  - name: web
    hostnames: { internal: [web.local], public: [] }
    checks:
      - { name: home, http: { scheme: https, path: / } }
      - { name: again, http: { scheme: https, path: / } }
      - { name: other, http: { scheme: https, path: /other } }
)"));
  REQUIRE(loaded.ok());
  const auto targets = CatalogExpander(loaded.config).expand("at");
  std::map<std::string, std::string> byCheck;
  for (const auto& t : targets) byCheck[t.check] = envprobe::instanceOf(t);
  CHECK(byCheck == std::map<std::string, std::string>{{"home", "https://web.local/#home"},
                                                      {"again", "https://web.local/#again"},
                                                      {"other", "https://web.local/other"}});
}

TEST_CASE("instance: a target whose instance is its URL keeps no second copy of it",
          "[instance_label]") {
  std::vector<Target> targets = {
      target("shop", "home", "http://shop.example.com/"),
      target("shop", "search", "http://shop.example.com/search?q=shoes&key=s3cret"),
      target("shop", "login", "http://user:pw@shop.example.com/login"),
      target("cart", "home", "http://cart.example.com/"),
      target("cart", "health", "http://cart.example.com/"),  // shares a URL: told apart
  };
  assignInstances(targets);
  CHECK(targets[0].instance.empty());
  CHECK(envprobe::instanceOf(targets[0]) == "http://shop.example.com/");
  CHECK(seriesInstance(targets[0], "10.0.0.1:80") == "http://shop.example.com/@10.0.0.1:80");
  // Redacted: kept, since the URL is not the label.
  CHECK(envprobe::instanceOf(targets[1]) == "http://shop.example.com/search?q=<redacted>&key=<redacted>");
  CHECK(envprobe::instanceOf(targets[2]) == "http://<redacted>@shop.example.com/login");
  CHECK_FALSE(targets[3].instance.empty());
  CHECK(envprobe::instanceOf(targets[3]) != envprobe::instanceOf(targets[4]));
}
