#include "probe/catalog/coverage_audit.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::AgentConfig;
using envprobe::auditCoverage;
using envprobe::CoverageCell;
using envprobe::CoverageReport;
using envprobe::Severity;
using envprobe::testing::TempDir;
using Catch::Matchers::VectorContains;

namespace {

AgentConfig loadOk(const std::string& path) {
  auto r = envprobe::loadConfig(path);
  std::string errors;
  for (const auto& d : r.diagnostics.items()) errors += d.format() + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return std::move(r.config);
}

std::vector<std::string> formatted(const CoverageReport& report) {
  std::vector<std::string> out;
  for (const auto& d : report.diagnostics.items()) out.push_back(d.format());
  return out;
}

const CoverageCell& cell(const CoverageReport& report, const std::string& service,
                         const std::string& env) {
  for (const auto& c : report.cells)
    if (c.service == service && c.env == env) return c;
  FAIL("no cell for " << service << " in " << env);
  throw std::logic_error("unreachable");
}

const std::string kEnvironments = R"(environments:
  dev: { tier: nonprod }
  at: { tier: nonprod }
  prod: { tier: prod }
)";

}  // namespace

TEST_CASE("coverage audit: the example configs pass", "[audit]") {
  const std::string name = GENERATE(as<std::string>{}, "dev", "at", "prod");
  const auto config = loadOk(std::string(ENVPROBE_SOURCE_DIR) + "/config/" + name + ".yaml");
  const auto report = auditCoverage(config);
  INFO(Catch::Detail::stringify(formatted(report)));
  CHECK(report.diagnostics.items().empty());
  CHECK(report.cells.size() == 3 * 3);
  CHECK(report.targetsIn("dev") == 7);
  CHECK(report.targetsIn("at") == 13);
  CHECK(report.targetsIn("prod") == 11);
}

TEST_CASE("coverage audit: the matrix has one cell per service and environment", "[audit]") {
  const auto config = loadOk(std::string(ENVPROBE_SOURCE_DIR) + "/config/at.yaml");
  const auto report = auditCoverage(config);
  REQUIRE(report.cells.size() == 9);
  // Services in catalog order, environments in declared order.
  std::vector<std::string> order;
  for (const auto& c : report.cells) order.push_back(c.service + "/" + c.env);
  CHECK(order == std::vector<std::string>{"shop/dev", "shop/at", "shop/prod", "orders-api/dev",
                                          "orders-api/at", "orders-api/prod", "admin/dev",
                                          "admin/at", "admin/prod"});
  const auto& shopAt = cell(report, "shop", "at");
  CHECK(shopAt.internalNames == std::vector<std::string>{"shop.at.local"});
  CHECK(shopAt.publicNames == std::vector<std::string>{"shop-at.example.com"});
  CHECK(shopAt.backends == 2);
  CHECK(shopAt.checks == 2);
  CHECK(shopAt.targets == 8);
  const auto& shopProd = cell(report, "shop", "prod");
  CHECK(shopProd.publicNames == std::vector<std::string>{"shop.example.com", "www.example.com"});
  CHECK(shopProd.backends == 0);
  CHECK(shopProd.targets == 6);
  const auto& shopDev = cell(report, "shop", "dev");
  CHECK(shopDev.internalNames == std::vector<std::string>{"shop.dev.local"});
  CHECK(shopDev.publicNames.empty());
  CHECK(shopDev.targets == 2);
  const auto& admin = cell(report, "admin", "prod");
  CHECK(admin.internalNames == std::vector<std::string>{"admin.prod.local"});
  CHECK(admin.publicNames.empty());
  CHECK(admin.checks == 1);
  CHECK(admin.targets == 1);
}

TEST_CASE("coverage audit: a map that leaves out an environment is an error", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public:
        prod: [web.example.com]
        dev: []
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  REQUIRE(report.diagnostics.errorCount() == 1);
  const auto& d = report.diagnostics.items()[0];
  CHECK(d.where.file == file);
  CHECK(d.where.line == 10);
  CHECK(d.format() == file + ":10:9: error: services[0].hostnames.public: service \"web\" lists "
                             "public hostnames for prod but says nothing for environment \"at\"; "
                             "list them, or write `at: []` if it has none there on purpose");
}

TEST_CASE("coverage audit: every unspoken environment of every kind is reported", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames:
      internal: { prod: [web.prod.local] }
      public: { prod: [web.example.com] }
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  CHECK(report.diagnostics.errorCount() == 4);
  const auto all = formatted(report);
  for (const std::string kind : {"internal", "public"}) {
    for (const std::string env : {"dev", "at"}) {
      bool found = false;
      for (const auto& line : all)
        found = found || (line.find("services[0].hostnames." + kind + ": service \"web\" lists " +
                                    kind + " hostnames for prod but says nothing for "
                                    "environment \"" + env + "\"") != std::string::npos);
      INFO(kind << " / " << env << "\n" << Catch::Detail::stringify(all));
      CHECK(found);
    }
  }
}

TEST_CASE("coverage audit: an explicit empty list is fine", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames:
      internal: { dev: [], at: [], prod: [] }
      public: { dev: [], at: [], prod: [web.example.com] }
    checks: [{ name: home, http: {} }]
  - name: tool
    hostnames: { internal: ["tool.{env}.local"], public: [] }
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  INFO(Catch::Detail::stringify(formatted(report)));
  CHECK(report.diagnostics.items().empty());
  CHECK(cell(report, "web", "at").targets == 0);
  CHECK(cell(report, "web", "prod").targets == 1);
}

TEST_CASE("coverage audit: a service with no checks is an error", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames: { internal: ["web.{env}.local"], public: [] }
    checks: []
  - name: api
    hostnames: { internal: ["api.{env}.local"], public: [] }
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  REQUIRE(report.diagnostics.errorCount() == 1);
  CHECK(report.diagnostics.items()[0].format() ==
        file + ":6:5: error: services[0].checks: service \"web\" has no checks; its hostnames "
               "would never be probed");
  CHECK(cell(report, "web", "at").checks == 0);
  CHECK(cell(report, "web", "at").targets == 0);
}

TEST_CASE("coverage audit: a hostname claimed by two services in one environment", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: shop
    hostnames:
      internal: ["shop.{env}.local"]
      public: { dev: [], at: [shared-at.example.com], prod: [www.example.com] }
    checks: [{ name: home, http: {} }]
  - name: blog
    hostnames:
      internal: ["blog.{env}.local"]
      public: { dev: [www.example.com], at: [shared-at.example.com], prod: [] }
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  // www.example.com is in prod for one and dev for the other: not a clash.
  REQUIRE(report.diagnostics.errorCount() == 1);
  CHECK(report.diagnostics.items()[0].format() ==
        file + ":11:5: error: services[1].hostnames: hostname \"shared-at.example.com\" in "
               "environment \"at\" is also claimed by service \"shop\"");
}

TEST_CASE("coverage audit: an environment with zero targets is a warning", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames:
      internal: { dev: [], at: [web.at.local], prod: [web.prod.local] }
      public: []
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  CHECK_FALSE(report.diagnostics.hasErrors());
  REQUIRE(report.diagnostics.warningCount() == 1);
  const auto& d = report.diagnostics.items()[0];
  CHECK(d.severity == Severity::Warning);
  CHECK(d.format() ==
        file + ":2:3: warning: environments.dev: environment \"dev\" would probe zero targets");
  CHECK(report.targetsIn("dev") == 0);
  CHECK(report.targetsIn("at") == 1);
}

TEST_CASE("coverage audit: the list form speaks for every environment", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: web
    hostnames: { internal: ["web.{env}.local"], public: ["web-{env}.example.com"] }
    backends: { prod: ["10.0.0.1:443", "10.0.0.2:443"] }
    checks: [{ name: home, http: {} }, { name: health, http: { path: /healthz } }]
)");
  const auto report = auditCoverage(loadOk(file));
  CHECK(report.diagnostics.items().empty());
  const auto& prod = cell(report, "web", "prod");
  CHECK(prod.internalNames == std::vector<std::string>{"web.prod.local"});
  CHECK(prod.publicNames == std::vector<std::string>{"web-prod.example.com"});
  CHECK(prod.backends == 2);
  CHECK(prod.targets == 2 * 2 * 2);
  CHECK(cell(report, "web", "dev").targets == 2 * 2);
}

TEST_CASE("coverage audit: hostnames compare without case and trailing dot", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: shop
    hostnames:
      internal: []
      public: [Shop.Example.com, www.example.com]
    checks: [{ name: home, http: {} }]
  - name: blog
    hostnames:
      internal: []
      public: [shop.example.com.]
    checks: [{ name: home, http: {} }]
  - name: wiki
    hostnames:
      internal: [WWW.example.com.]
      public: [wiki.example.com]
    checks: [{ name: home, http: {} }]
)");
  const auto errors = formatted(auditCoverage(loadOk(file)));
  INFO(Catch::Detail::stringify(errors));
  // Each clash is found in all three environments.
  REQUIRE(errors.size() == 6);
  CHECK_THAT(errors, VectorContains(file + ":11:5: error: services[1].hostnames: hostname "
                                           "\"shop.example.com.\" in environment \"prod\" is "
                                           "also claimed by service \"shop\""));
  CHECK_THAT(errors, VectorContains(file + ":16:5: error: services[2].hostnames: hostname "
                                           "\"WWW.example.com.\" in environment \"dev\" is "
                                           "also claimed by service \"shop\""));
}

TEST_CASE("coverage audit: one service listing a name twice in two spellings", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: shop
    hostnames:
      internal: [shop.local]
      public: [SHOP.local.]
    checks: [{ name: home, http: {} }]
)");
  const auto errors = formatted(auditCoverage(loadOk(file)));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == file + ":6:5: error: services[0].hostnames: hostname \"SHOP.local.\" is "
                            "listed twice for environment \"dev\"");
}

TEST_CASE("coverage audit: one hostname in another case and with a trailing dot clashes", "[audit]") {
  TempDir dir;
  const auto file = dir.write("services.yaml", kEnvironments + R"(services:
  - name: shop
    hostnames: { internal: [], public: { dev: [], at: [], prod: [Shop.Example.com.] } }
    checks: [{ name: home, http: {} }]
  - name: blog
    hostnames: { internal: [], public: { dev: [], at: [], prod: [shop.example.com] } }
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  REQUIRE(report.diagnostics.errorCount() == 1);
  CHECK(report.diagnostics.items()[0].format() ==
        file + ":9:5: error: services[1].hostnames: hostname \"shop.example.com\" in "
               "environment \"prod\" is also claimed by service \"shop\"");
}

TEST_CASE("coverage audit: a catalog without services is one warning", "[audit]") {
  TempDir dir;
  SECTION("an agent file: names its environment") {
    const auto file = dir.write("at.yaml", "environment: at\n" + kEnvironments + "services: []\n");
    const auto report = auditCoverage(loadOk(file));
    CHECK_FALSE(report.diagnostics.hasErrors());
    REQUIRE(report.diagnostics.items().size() == 1);  // not one more per environment
    CHECK(report.diagnostics.items()[0].severity == Severity::Warning);
    CHECK(report.diagnostics.items()[0].format() ==
          file + ": warning: services: the catalog has no services; environment \"at\" would "
                 "probe zero targets");
  }
  SECTION("a catalog on its own, without the services key") {
    const auto file = dir.write("services.yaml", kEnvironments);
    const auto report = auditCoverage(loadOk(file));
    REQUIRE(report.diagnostics.items().size() == 1);
    CHECK(report.diagnostics.items()[0].format() ==
          file + ": warning: services: the catalog has no services; every environment would "
                 "probe zero targets");
  }
  SECTION("a file that cannot be read adds nothing to its read error") {
    const auto loaded = envprobe::loadConfig((dir.path() / "absent.yaml").string());
    CHECK(loaded.diagnostics.hasErrors());
    CHECK(auditCoverage(loaded.config).diagnostics.items().empty());
  }
}

TEST_CASE("coverage audit: the agent's own environment with zero targets is named so",
          "[audit]") {
  TempDir dir;
  const auto file = dir.write("at.yaml", "environment: at\n" + kEnvironments + R"(services:
  - name: web
    hostnames:
      internal: { dev: [web.dev.local], at: [], prod: [web.prod.local] }
      public: []
    checks: [{ name: home, http: {} }]
)");
  const auto report = auditCoverage(loadOk(file));
  CHECK_FALSE(report.diagnostics.hasErrors());
  REQUIRE(report.diagnostics.warningCount() == 1);
  CHECK(report.diagnostics.items()[0].format() ==
        file + ":4:3: warning: environments.at: environment \"at\" would probe zero targets; it "
               "is this agent's environment: run would probe nothing and once exits 2");
}
