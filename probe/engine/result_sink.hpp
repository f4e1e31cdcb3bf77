#pragma once
// Where a session's results go: the probe series (metrics), agent-side alerting, `once`.
// Decide, then apply: a sink receives values and never calls back into the engine.
#include <string>
#include <vector>

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

// Decides on a result before any sink sees it (expected versions turn a pass into
// version_mismatch). Runs on the loop; must be cheap and must not call back into the engine.
class ResultAmender {
 public:
  virtual ~ResultAmender() = default;
  virtual void amend(ProbeResult& result) = 0;
};

// Where a session's results go: the amender (optional) first, then every sink in order.
struct SessionOutputs {
  std::vector<ResultSink*> sinks;
  ResultAmender* amender = nullptr;
};

}  // namespace envprobe
