// Arbitrary bytes as an agent file, through the same steps as `envprobe check-config --targets`:
// load (YAML, includes, references), coverage audit, catalog expansion, and the assertions of
// every expanded target. Nothing may crash or throw; every problem must come out as a diagnostic
// that says where it is.
//
// The loader reads files, so each input is written to agent.yaml in a directory of this process
// that also holds a copy of the example catalog (config/services.yaml) for `include:` to find,
// as the example agent files do. Inputs whose include
// patterns could leave that directory (absolute, or with "..") are skipped: they would make the
// run depend on the machine's files.
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checks/assertions.hpp"
#include "probe/catalog/catalog_expander.hpp"
#include "probe/catalog/coverage_audit.hpp"
#include "probe/config/yaml/config_loader.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace fs = std::filesystem;
using namespace envprobe;

struct Workspace {
  fs::path dir;
  fs::path agentFile;

  Workspace() {
    std::string pattern = (fs::temp_directory_path() / "envprobe-fuzz-config.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
    agentFile = dir / "agent.yaml";
    fs::copy_file(fs::path(ENVPROBE_SOURCE_DIR) / "config" / "services.yaml",
                  dir / "services.yaml");
  }
  ~Workspace() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

bool staysInside(const std::string& pattern) {
  return !pattern.empty() && pattern.front() != '/' && pattern.find("..") == std::string::npos;
}

// The include patterns as the loader will see them; false when one could leave the workspace.
bool includesStayInside(const YAML::Node& root) {
  if (!root.IsMap()) return true;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != "include") continue;
    const YAML::Node& value = entry.second;
    if (value.IsScalar() && !staysInside(value.Scalar())) return false;
    if (value.IsSequence()) {
      for (const auto& item : value) {
        if (item.IsScalar() && !staysInside(item.Scalar())) return false;
      }
    }
  }
  return true;
}

bool skipped(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return false;  // the loader reports the invalid YAML and reads nothing else
  }
  return !includesStayInside(root);
}

void checkDiagnostics(const Diagnostics& diagnostics, const char* stage) {
  for (const auto& d : diagnostics.items()) {
    FUZZ_CHECK(!d.message.empty(), "%s: a diagnostic without a message at %s", stage,
               d.keyPath.c_str());
    FUZZ_CHECK(!d.where.file.empty(), "%s: a diagnostic without a file: %s", stage,
               d.message.c_str());
    FUZZ_CHECK(d.where.line >= 0 && d.where.column >= 0, "%s: negative position: %s", stage,
               d.format().c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Workspace workspace;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (skipped(text)) return 0;
  {
    std::ofstream out(workspace.agentFile, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }

  const LoadResult loaded = loadConfig(workspace.agentFile.string());
  checkDiagnostics(loaded.diagnostics, "loadConfig");
  // check-config audits a partly broken config too, so that every error is reported at once.
  const CoverageReport report = auditCoverage(loaded.config);
  checkDiagnostics(report.diagnostics, "auditCoverage");
  if (!loaded.ok() || report.diagnostics.hasErrors() || loaded.config.environment.empty()) return 0;

  const std::vector<Target> targets =
      CatalogExpander(loaded.config).expand(loaded.config.environment);
  FUZZ_CHECK(targets.size() == report.targetsIn(loaded.config.environment),
             "expansion gives %zu targets, the audit counted %zu", targets.size(),
             report.targetsIn(loaded.config.environment));
  for (const auto& target : targets) {
    FUZZ_CHECK(target.http != nullptr, "target %s has no HTTP check", target.id.c_str());
    FUZZ_CHECK(target.interval.count() > 0 && target.timeout <= target.interval,
               "target %s: interval %lld ms, timeout %lld ms", target.id.c_str(),
               static_cast<long long>(target.interval.count()),
               static_cast<long long>(target.timeout.count()));
    const HttpAssertions assertions(target.http->expect, target.env);
    Observation observation;
    observation.statusCode = 200;
    observation.body = R"({"status":"UP"})";
    (void)assertions.evaluate(observation);
  }
  return 0;
}
