#include "probe/catalog/coverage_audit.hpp"

#include <map>
#include <set>

#include "probe/catalog/catalog_expander.hpp"
#include "probe/config/address_rules.hpp"

namespace envprobe {

std::size_t CoverageReport::targetsIn(const std::string& env) const {
  std::size_t n = 0;
  for (const auto& cell : cells)
    if (cell.env == env) n += cell.targets;
  return n;
}

namespace {

void auditUnspoken(std::size_t index, const ServiceDef& service, const HostnameSpec& spec, const char* kind,
                   const Catalog& catalog, Diagnostics& diags) {
  if (!spec.declared || !spec.perEnvironment) return;
  std::vector<std::string> missing;
  std::vector<std::string> withNames;
  for (const auto& env : catalog.environments) {
    if (!speaksFor(spec, env.name)) missing.push_back(env.name);
    else if (!hostnamesFor(spec, env.name).empty()) withNames.push_back(env.name);
  }
  for (const auto& env : missing) {
    std::string which;
    for (const auto& e : withNames) which += (which.empty() ? "" : ", ") + e;
    diags.error(spec.where, "services[" + std::to_string(index) + "].hostnames." + kind,
                "service \"" + service.name + "\" lists " + kind + " hostnames for " +
                    (which.empty() ? std::string("other environments") : which) +
                    " but says nothing for environment \"" + env + "\"; list them, or write `" +
                    env + ": []` if it has none there on purpose");
  }
}

// Warnings, not errors: an empty catalog is legal, but an agent that probes nothing (and a
// `once` that would pass having checked nothing) is rarely what its operator meant.
void warnEmpty(const AgentConfig& config, CoverageReport& report) {
  const Catalog& catalog = config.catalog;
  if (catalog.services.empty()) {
    // A file that could not be read at all says nothing about its catalog.
    if (catalog.environments.empty() && config.environment.empty()) return;
    report.diagnostics.warning(
        SourceLocation{config.file, 0, 0}, "services",
        "the catalog has no services; " +
            (config.environment.empty()
                 ? std::string("every environment would probe zero targets")
                 : "environment \"" + config.environment + "\" would probe zero targets"));
    return;
  }
  for (const auto& env : catalog.environments) {
    if (report.targetsIn(env.name) > 0) continue;
    std::string message = "environment \"" + env.name + "\" would probe zero targets";
    if (env.name == config.environment)
      message += "; it is this agent's environment: run would probe nothing and once exits 2";
    report.diagnostics.warning(env.where, "environments." + env.name, message);
  }
}

}  // namespace

CoverageReport auditCoverage(const AgentConfig& config) {
  CoverageReport report;
  const Catalog& catalog = config.catalog;
  const CatalogExpander expander(config);
  // hostname -> service, per environment: a name claimed twice is probed under the wrong owner.
  std::map<std::string, std::map<std::string, std::string>> owners;

  for (std::size_t index = 0; index < catalog.services.size(); ++index) {
    const ServiceDef& service = catalog.services[index];
    auditUnspoken(index, service, service.internal, "internal", catalog, report.diagnostics);
    auditUnspoken(index, service, service.publicNames, "public", catalog, report.diagnostics);
    if (service.checks.empty())
      report.diagnostics.error(service.where, "services[" + std::to_string(index) + "].checks",
                               "service \"" + service.name +
                                   "\" has no checks; its hostnames would never be probed");
    for (const auto& env : catalog.environments) {
      CoverageCell cell;
      cell.service = service.name;
      cell.env = env.name;
      cell.internalNames = hostnamesFor(service.internal, env.name);
      cell.publicNames = hostnamesFor(service.publicNames, env.name);
      if (auto it = service.backends.find(env.name); it != service.backends.end())
        cell.backends = it->second.size();
      cell.checks = service.checks.size();
      cell.targets = expander.expandService(service, env.name).size();
      // DNS names compare case-insensitively and without the root's trailing dot.
      const std::string hostnamesPath = "services[" + std::to_string(index) + "].hostnames";
      std::set<std::string> seen;
      for (const auto* names : {&cell.internalNames, &cell.publicNames}) {
        for (const auto& written : *names) {
          const std::string name = canonicalHostname(written);
          if (!seen.insert(name).second)
            report.diagnostics.error(service.where, hostnamesPath,
                                     "hostname \"" + written +
                                         "\" is listed twice for environment \"" + env.name +
                                         "\"");
          auto [it, inserted] = owners[env.name].emplace(name, service.name);
          if (!inserted && it->second != service.name)
            report.diagnostics.error(service.where, hostnamesPath,
                                     "hostname \"" + written + "\" in environment \"" +
                                         env.name + "\" is also claimed by service \"" +
                                         it->second + "\"");
        }
      }
      report.cells.push_back(std::move(cell));
    }
  }
  warnEmpty(config, report);
  return report;
}

}  // namespace envprobe
