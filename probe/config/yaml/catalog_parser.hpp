#pragma once
// yaml-cpp -> catalog model (environments, services, checks). Collects diagnostics, never throws.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

void parseEnvironments(const YamlContext& ctx, const YAML::Node& node, Catalog& catalog);
void parseServices(const YamlContext& ctx, const YAML::Node& node, Catalog& catalog);

// One check of a service; nullopt when the check is unusable (errors recorded).
std::optional<CheckDef> parseCheck(const YamlContext& ctx, const YAML::Node& node,
                                   const std::string& path);

}  // namespace envprobe
