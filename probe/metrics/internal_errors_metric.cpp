#include "probe/metrics/internal_errors_metric.hpp"

#include "probe/base/internal_errors.hpp"

namespace envprobe {

std::vector<prometheus::MetricFamily> InternalErrorsMetric::Collect() const {
  prometheus::MetricFamily family;
  family.name = "envprobe_internal_errors_total";
  family.help = "Unexpected exceptions caught and survived (event loop callbacks, HTTP handlers)";
  family.type = prometheus::MetricType::Counter;
  prometheus::ClientMetric metric;
  metric.counter.value = static_cast<double>(internalErrorCount());
  family.metric.push_back(metric);
  return {family};
}

}  // namespace envprobe
