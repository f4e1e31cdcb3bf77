#pragma once
// Where a session's results go: the probe series (metrics), agent-side alerting, `once`.
// Decide, then apply: a sink receives values and never calls back into the engine.
#include <string>

#include "checks/probe_result.hpp"

namespace envprobe {

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void onResult(const ProbeResult& result) = 0;
  // One series of a target is gone (the target was removed, or this address left DNS): drop
  // its state; a firing alert resolves.
  virtual void onSeriesRemoved(const Target& target, const std::string& address) = 0;
};

}  // namespace envprobe
