#include "probe/cmd/check_config_command.hpp"

#include "probe/catalog/catalog_expander.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "probe/catalog/coverage_audit.hpp"
#include "probe/base/logging.hpp"
#include "probe/base/text_table.hpp"
#include "probe/cmd/diagnostics_output.hpp"

namespace envprobe {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "-";
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

int runCheckConfig(const CommandLine& cl, std::ostream& out, std::ostream& err) {
  if (cl.configFile.empty()) {
    err << "check-config: give the config file: envprobe check-config FILE\n";
    return 2;
  }
  LoadResult loaded = loadConfig(cl.configFile);
  Diagnostics all = loaded.diagnostics;
  // The audit runs on a partly broken config too, so that every error is reported at once.
  CoverageReport report = auditCoverage(loaded.config);
  all.append(report.diagnostics);
  printDiagnostics(all, err);
  if (all.hasErrors()) {
    if (logFormat() == LogFormat::Json) {
      err << formatLogLine("error", "config invalid",
                           {{"file", cl.configFile},
                            {"errors", all.errorCount()},
                            {"warnings", all.warningCount()}})
          << "\n";
      return 1;
    }
    err << "FAILED: " << cl.configFile << ": " << all.errorCount() << " error(s), "
        << all.warningCount() << " warning(s)\n";
    return 1;
  }

  const AgentConfig& config = loaded.config;
  out << "Checking " << cl.configFile;
  if (!config.environment.empty()) out << " (environment " << config.environment << ")";
  out << "\n";
  for (const auto& inc : config.includes) out << "  includes " << inc << "\n";
  out << "\n";
  TextTable matrix({"SERVICE", "ENV", "TIER", "INTERNAL", "PUBLIC", "BACKENDS", "CHECKS",
                    "TARGETS"});
  for (const auto& cell : report.cells) {
    const EnvironmentDef* env = config.catalog.findEnvironment(cell.env);
    const std::string marker = cell.env == config.environment ? "*" : "";
    matrix.addRow({cell.service, cell.env + marker, env ? toString(env->tier) : "?",
                   joinNames(cell.internalNames), joinNames(cell.publicNames),
                   std::to_string(cell.backends), std::to_string(cell.checks),
                   std::to_string(cell.targets)});
  }
  matrix.print(out);
  out << "\n";
  if (cl.listTargets && !config.environment.empty()) {
    TextTable targets({"SERVICE", "CHECK", "VISIBILITY", "HOSTNAME", "BACKEND", "URL",
                       "INTERVAL", "TIMEOUT"});
    for (const auto& t : CatalogExpander(config).expand(config.environment)) {
      targets.addRow({t.service, t.check, toString(t.visibility), t.hostname,
                      t.backend.empty() ? "-" : t.backend, redactedUrl(t.url),
                      std::to_string(t.interval.count()) + "ms",
                      std::to_string(t.timeout.count()) + "ms"});
    }
    targets.print(out);
    out << "\n";
  }
  out << "SUCCESS: " << config.catalog.services.size() << " service(s), "
      << config.catalog.environments.size() << " environment(s)";
  if (!config.environment.empty())
    out << "; environment " << config.environment << " probes "
        << report.targetsIn(config.environment) << " target(s)";
  out << "\n";
  return 0;
}

}  // namespace envprobe
