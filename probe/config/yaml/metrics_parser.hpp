#pragma once
// The agent file's `metrics:` section: which per-target series the agent exposes. Collects
// diagnostics, never throws.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

// metrics: { phases: BOOL, per_service_histogram: BOOL }
void parseMetrics(const YamlContext& ctx, const YAML::Node& node, MetricsSettings& metrics);

}  // namespace envprobe
