#pragma once
// Value types of one probe: the target as prepared for probing (with its compiled assertions) and
// the result of one probe of one address.
#include <chrono>
#include <memory>
#include <string>

#include "checks/assertions.hpp"
#include "checks/observation.hpp"
#include "checks/verdict.hpp"
#include "probe/catalog/target.hpp"

namespace envprobe {

// A target ready to probe: the expanded target plus its compiled assertions.
struct ProbeTarget {
  Target target;
  std::shared_ptr<const HttpAssertions> assertions;
  std::string backendHost;  // parsed from target.backend
  int backendPort = 0;      // 0: the URL's port
  std::string secretUrl;    // target.url plus the check's secret query; never shown; empty
                            // when the check has none (the URL is then target.url: no copy)
  const std::string& requestUrl() const { return secretUrl.empty() ? target.url : secretUrl; }
};

std::shared_ptr<ProbeTarget> prepareTarget(Target target,
                                           std::shared_ptr<const HttpAssertions> assertions);

struct ProbeResult {
  std::shared_ptr<const ProbeTarget> target;
  std::string address;  // the `address` label: pinned backend or (address_mode all) resolved IP
  Observation observation;
  Verdict verdict;
  std::chrono::system_clock::time_point finishedAt;
};

}  // namespace envprobe
