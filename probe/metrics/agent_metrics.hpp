#pragma once
// The agent's own health, as prometheus-cpp families built once with references kept.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "probe/config/config_model.hpp"

namespace envprobe {

class AgentMetrics {
 public:
  // settings.perServiceHistogram false: no envprobe_probe_duration_seconds family at all.
  AgentMetrics(prometheus::Registry& registry, const std::string& env,
               const MetricsSettings& settings = {});

  void setTargets(std::size_t n) { targets_.Set(static_cast<double>(n)); }
  void setInflight(std::size_t n) { inflight_.Set(static_cast<double>(n)); }
  void setAwaitingFirstRun(std::size_t n) { awaitingFirstRun_.Set(static_cast<double>(n)); }
  void addSkipped(std::uint64_t n) { skipped_.Increment(static_cast<double>(n)); }
  void observeLag(double seconds) { lag_.Observe(seconds); }
  void observeProbe(std::string_view service, std::string_view check, std::string_view visibility,
                    double seconds, bool ok);

 private:
  std::string env_;
  prometheus::Gauge& targets_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& awaitingFirstRun_;
  prometheus::Counter& skipped_;
  prometheus::Histogram& lag_;
  prometheus::Family<prometheus::Histogram>* probeDuration_;  // null when turned off
  prometheus::Family<prometheus::Counter>& probes_;
  prometheus::Counter& probesOk_;      // references kept: no label lookup per probe
  prometheus::Counter& probesFailed_;
  std::map<std::tuple<std::string, std::string, std::string>, prometheus::Histogram*, std::less<>>
      histograms_;
};

}  // namespace envprobe
