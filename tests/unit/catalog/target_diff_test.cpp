#include "probe/catalog/target_diff.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "probe/catalog/catalog_expander.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::diffTargets;
using envprobe::Target;
using envprobe::TargetDiff;
using envprobe::testing::TempDir;
using Ids = std::vector<std::string>;

namespace {

std::vector<Target> expand(const TempDir& dir, const std::string& text) {
  auto loaded = envprobe::loadConfig(dir.write("agent.yaml", text));
  std::string errors;
  for (const auto& d : loaded.diagnostics.items()) errors += d.format() + "\n";
  INFO(errors);
  REQUIRE(loaded.ok());
  return envprobe::CatalogExpander(loaded.config).expand(loaded.config.environment);
}

TargetDiff diff(const std::vector<Target>& before, const std::vector<Target>& after) {
  std::vector<const Target*> a, b;
  for (const auto& t : before) a.push_back(&t);
  for (const auto& t : after) b.push_back(&t);
  return diffTargets(a, b);
}

// One service with two hostnames; `check` is spliced into the check definition.
std::string config(const std::string& check, const std::string& extraService = "") {
  return R"(environment: at
environments:
  at: {tier: nonprod}
services:
  - name: shop
    hostnames: {internal: ["shop.at.internal", "cart.at.internal"], public: []}
    checks:
      - name: home
)" + check + extraService;
}

const std::string kCheck = R"(        interval: 10s
        http: {scheme: http, path: /health, expect: {status: [200]}}
)";

}  // namespace

TEST_CASE("reloading the same file leaves every target unchanged", "[target_diff]") {
  TempDir dir;
  const auto before = expand(dir, config(kCheck));
  const auto after = expand(dir, config(kCheck));  // loaded again: new objects, same values
  REQUIRE(before.size() == 2);
  const auto d = diff(before, after);
  CHECK(d.unchanged.size() == 2);
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  CHECK(d.changed.empty());
}

TEST_CASE("a changed check restarts its targets; a new hostname is added, a gone one removed",
          "[target_diff]") {
  TempDir dir;
  const auto before = expand(dir, config(kCheck));
  SECTION("the expectation changes") {
    const auto after = expand(dir, config(R"(        interval: 10s
        http: {scheme: http, path: /health, expect: {status: [200, 204]}}
)"));
    const auto d = diff(before, after);
    CHECK(d.changed.size() == 2);
    CHECK(d.unchanged.empty());
  }
  SECTION("the interval changes") {
    const auto after = expand(dir, config(R"(        interval: 20s
        http: {scheme: http, path: /health, expect: {status: [200]}}
)"));
    CHECK(diff(before, after).changed.size() == 2);
  }
  SECTION("a header is added to the request") {
    const auto after = expand(dir, config(R"(        interval: 10s
        http: {scheme: http, path: /health, headers: {X-Probe: "1"}, expect: {status: [200]}}
)"));
    CHECK(diff(before, after).changed.size() == 2);
  }
  SECTION("a hostname is replaced") {
    std::string text = config(kCheck);
    text.replace(text.find("cart.at.internal"), 16, "pay.at.internal");
    const auto after = expand(dir, text);
    const auto d = diff(before, after);
    CHECK(d.unchanged == Ids{"at/shop/home/internal/shop.at.internal"});
    CHECK(d.added == Ids{"at/shop/home/internal/pay.at.internal"});
    CHECK(d.removed == Ids{"at/shop/home/internal/cart.at.internal"});
    CHECK(d.changed.empty());
  }
  SECTION("a service is added") {
    const auto after = expand(dir, config(kCheck, R"(  - name: blog
    hostnames: {internal: ["blog.at.internal"], public: []}
    checks:
      - name: home
        http: {scheme: http}
)"));
    const auto d = diff(before, after);
    CHECK(d.unchanged.size() == 2);
    CHECK(d.added == Ids{"at/blog/home/internal/blog.at.internal"});
  }
}

TEST_CASE("an empty set on either side", "[target_diff]") {
  TempDir dir;
  const auto targets = expand(dir, config(kCheck));
  CHECK(diff({}, targets).added.size() == 2);
  CHECK(diff(targets, {}).removed.size() == 2);
  const auto none = diff({}, {});
  CHECK((none.added.empty() && none.removed.empty() && none.changed.empty() &&
         none.unchanged.empty()));
}

TEST_CASE("a target whose instance label changes is changed: its series restart under the new one",
          "[target_diff][instance]") {
  TempDir dir;
  const auto before = expand(dir, config(kCheck));
  // A second check on the same URL: both now need "#<check>" after the URL.
  const auto after = expand(dir, config(kCheck + R"(      - name: home-again
        interval: 10s
        http: {scheme: http, path: /health, expect: {status: [200]}}
)"));
  REQUIRE(after.size() == 4);
  const auto d = diff(before, after);
  CHECK(d.changed == Ids{"at/shop/home/internal/cart.at.internal",
                         "at/shop/home/internal/shop.at.internal"});
  CHECK(d.added == Ids{"at/shop/home-again/internal/cart.at.internal",
                       "at/shop/home-again/internal/shop.at.internal"});
  CHECK(d.unchanged.empty());
}

TEST_CASE("series hash: the same for the parts and for the key built from them") {
  using envprobe::seriesHash;
  using envprobe::seriesKey;
  using envprobe::seriesKeyHash;
  const std::string id = "at/shop/home/public/shop.example.test";
  CHECK(seriesHash(id, "10.0.0.1:443") == seriesKeyHash(seriesKey(id, "10.0.0.1:443")));
  CHECK(seriesHash(id, "") == seriesKeyHash(seriesKey(id, "")));
  // The separator counts: moving bytes between the id and the address is another series.
  CHECK(seriesHash(id + "1", "0.0.0.1") != seriesHash(id, "10.0.0.1"));
  CHECK(seriesHash(id, "10.0.0.1") != seriesHash(id, "10.0.0.2"));
}
