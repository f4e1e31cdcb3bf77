#include "probe/metrics/agent_metrics.hpp"

namespace envprobe {

namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const prometheus::Histogram::BucketBoundaries kLagBuckets = {
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};

}  // namespace

AgentMetrics::AgentMetrics(prometheus::Registry& registry, const std::string& env,
                           const MetricsSettings& settings)
    : env_(env),
      targets_(prometheus::BuildGauge()
                   .Name("envprobe_targets")
                   .Help("Targets the agent probes")
                   .Register(registry)
                   .Add({{"env", env}})),
      inflight_(prometheus::BuildGauge()
                    .Name("envprobe_inflight_probes")
                    .Help("Probes running now")
                    .Register(registry)
                    .Add({})),
      awaitingFirstRun_(prometheus::BuildGauge()
                            .Name("envprobe_targets_awaiting_first_run")
                            .Help("Targets whose first run has not started yet (since the agent "
                                  "started, or since a reload added them)")
                            .Register(registry)
                            .Add({})),
      skipped_(prometheus::BuildCounter()
                   .Name("envprobe_skipped_runs_total")
                   .Help("Scheduled runs skipped because the previous run was still in flight or "
                         "the in-flight cap was reached")
                   .Register(registry)
                   .Add({})),
      lag_(prometheus::BuildHistogram()
               .Name("envprobe_scheduler_lag_seconds")
               .Help("Delay between a run's due time and its start")
               .Register(registry)
               .Add({}, kLagBuckets)),
      probeDuration_(settings.perServiceHistogram
                         ? &prometheus::BuildHistogram()
                                .Name("envprobe_probe_duration_seconds")
                                .Help("Probe duration, DNS included")
                                .Register(registry)
                         : nullptr),
      probes_(prometheus::BuildCounter()
                  .Name("envprobe_probes_total")
                  .Help("Probes run, by result")
                  .Register(registry)),
      probesOk_(probes_.Add({{"result", "success"}})),
      probesFailed_(probes_.Add({{"result", "failure"}})) {
  prometheus::BuildGauge()
      .Name("envprobe_build_info")
      .Help("envprobe's version")
      .Register(registry)
      .Add({{"version", ENVPROBE_VERSION}, {"env", env}})
      .Set(1);
}

void AgentMetrics::observeProbe(std::string_view service, std::string_view check,
                                std::string_view visibility, double seconds, bool ok) {
  (ok ? probesOk_ : probesFailed_).Increment();
  if (!probeDuration_) return;
  // Looked up by views: no copy of the three strings per probe.
  auto it = histograms_.find(std::tuple<std::string_view, std::string_view, std::string_view>(
      service, check, visibility));
  if (it == histograms_.end()) {
    auto& h = probeDuration_->Add(
        {{"env", env_},
         {"service", std::string(service)},
         {"check", std::string(check)},
         {"visibility", std::string(visibility)}},
        kLatencyBuckets);
    it = histograms_
             .emplace(std::make_tuple(std::string(service), std::string(check),
                                      std::string(visibility)),
                      &h)
             .first;
  }
  it->second->Observe(seconds);
}

}  // namespace envprobe
