#pragma once
// Catalog expansion (pure): the agent's environment -> the targets it probes.
// One target per check x hostname of the service in that environment x backend (if listed).
#include <memory>
#include <string>
#include <vector>

#include "probe/catalog/target.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

// The hostnames a spec gives an environment, {env} expanded. Empty when it says nothing.
std::vector<std::string> hostnamesFor(const HostnameSpec& spec, const std::string& env);
// Whether the spec speaks for the environment at all (an explicit empty list counts).
bool speaksFor(const HostnameSpec& spec, const std::string& env);

class CatalogExpander {
 public:
  explicit CatalogExpander(const AgentConfig& config) : config_(config) {}
  // Every target of the environment, each with its unique `instance` label.
  std::vector<Target> expand(const std::string& env) const;
  // One service's targets, `instance` not assigned (it depends on all the targets).
  std::vector<Target> expandService(const ServiceDef& service, const std::string& env) const;

 private:
  const AgentConfig& config_;
};

}  // namespace envprobe
