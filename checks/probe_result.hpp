#pragma once
// Value types of one probe: the target as prepared for probing (with its compiled assertions) and
// the result of one probe of one address.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "checks/assertions.hpp"
#include "checks/observation.hpp"
#include "checks/verdict.hpp"
#include "probe/catalog/target.hpp"

namespace envprobe {

// A target ready to probe: the expanded target plus its compiled assertions.
struct ProbeTarget {
  Target target;
  std::shared_ptr<const HttpAssertions> assertions;
  // target.url plus the check's secret query; never shown; null when the check has none (the
  // URL is then target.url: no copy).
  std::shared_ptr<const std::string> secretUrl;
  std::uint32_t backendHostAt = 0;    // the host part of target.backend: where it starts ...
  std::uint32_t backendHostSize = 0;  // ... and how long it is (0: no backend)
  int backendPort = 0;                // 0: the URL's port

  const std::string& requestUrl() const { return secretUrl ? *secretUrl : target.url; }
  // The host the target is pinned to, without brackets ("" when it is not pinned).
  std::string_view backendHost() const {
    return std::string_view(target.backend).substr(backendHostAt, backendHostSize);
  }
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
