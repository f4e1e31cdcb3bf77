#pragma once
// Catalog expansion (pure): the agent's environment -> the targets it probes.
// One target per check x hostname of the service in that environment x backend (if listed).
#include <memory>
#include <string>
#include <vector>

#include "probe/config_model.hpp"

namespace envprobe {

struct Target {
  std::string id;  // stable: env/service/check/visibility/hostname[@backend]
  std::string env;
  Tier tier = Tier::NonProd;
  std::string service;
  std::string check;
  std::string hostname;
  Visibility visibility = Visibility::Internal;
  std::string backend;  // "host:port" the hostname is pinned to; empty = resolve the hostname
  std::string url;
  int port = 0;  // the URL's port (explicit or the scheme's default)
  Duration interval{0};
  Duration timeout{0};
  AddressMode addressMode = AddressMode::First;
  std::shared_ptr<const HttpCheckSpec> http;
};

// The hostnames a spec gives an environment, {env} expanded. Empty when it says nothing.
std::vector<std::string> hostnamesFor(const HostnameSpec& spec, const std::string& env);
// Whether the spec speaks for the environment at all (an explicit empty list counts).
bool speaksFor(const HostnameSpec& spec, const std::string& env);

class CatalogExpander {
 public:
  explicit CatalogExpander(const AgentConfig& config) : config_(config) {}
  std::vector<Target> expand(const std::string& env) const;
  std::vector<Target> expandService(const ServiceDef& service, const std::string& env) const;

 private:
  const AgentConfig& config_;
};

}  // namespace envprobe
