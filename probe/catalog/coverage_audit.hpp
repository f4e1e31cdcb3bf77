#pragma once
// The coverage audit (pure): refuses a catalog that leaves a hostname kind unspoken for in some
// environment, and builds the service x environment matrix that check-config prints.
#include <string>
#include <vector>

#include "probe/config/config_model.hpp"

namespace envprobe {

struct CoverageCell {
  std::string service;
  std::string env;
  std::vector<std::string> internalNames;
  std::vector<std::string> publicNames;
  std::size_t backends = 0;
  std::size_t checks = 0;
  std::size_t targets = 0;
};

struct CoverageReport {
  std::vector<CoverageCell> cells;  // services in catalog order, environments in declared order
  Diagnostics diagnostics;
  std::size_t targetsIn(const std::string& env) const;
};

CoverageReport auditCoverage(const AgentConfig& config);

}  // namespace envprobe
