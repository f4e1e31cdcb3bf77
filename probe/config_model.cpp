#include "probe/config_model.hpp"

namespace envprobe {

const char* toString(Tier tier) { return tier == Tier::Prod ? "prod" : "nonprod"; }
const char* toString(Visibility v) { return v == Visibility::Internal ? "internal" : "public"; }
const char* toString(AddressMode mode) { return mode == AddressMode::All ? "all" : "first"; }

const EnvironmentDef* Catalog::findEnvironment(const std::string& name) const {
  for (const auto& env : environments)
    if (env.name == name) return &env;
  return nullptr;
}

}  // namespace envprobe
