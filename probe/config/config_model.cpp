#include "probe/config/config_model.hpp"

namespace envprobe {

const EnvironmentDef* Catalog::findEnvironment(const std::string& name) const {
  for (const auto& env : environments)
    if (env.name == name) return &env;
  return nullptr;
}

}  // namespace envprobe
