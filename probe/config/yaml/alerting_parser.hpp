#pragma once
// yaml-cpp -> alerting settings and maintenance windows of the agent file.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

void parseAlerting(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config);
void parseMaintenance(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config);

}  // namespace envprobe
