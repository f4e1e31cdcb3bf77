#pragma once
// envprobe_internal_errors_total: exceptions caught at a catch-log-continue boundary.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace envprobe {

class InternalErrorsMetric : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace envprobe
