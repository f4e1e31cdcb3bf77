#include "probe/config/yaml/metrics_parser.hpp"

namespace envprobe {

void parseMetrics(const YamlContext& ctx, const YAML::Node& node, MetricsSettings& metrics) {
  MapReader reader(ctx, node, "metrics", {"phases", "per_service_histogram"});
  if (!reader.isMap()) return;
  if (auto v = reader.boolean("phases")) metrics.phases = *v;
  if (auto v = reader.boolean("per_service_histogram")) metrics.perServiceHistogram = *v;
}

}  // namespace envprobe
