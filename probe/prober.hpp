#pragma once
// Runs one probe of one target on the event loop: resolve (c-ares) or use the pinned backend,
// run the HTTP check on each address, judge each observation. Results are values; nothing throws.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "checks/assertions.hpp"
#include "checks/observation.hpp"
#include "checks/verdict.hpp"
#include "probe/catalog_expander.hpp"
#include "probe/curl_driver.hpp"
#include "probe/dns_resolver.hpp"

namespace envprobe {

// A target ready to probe: the expanded target plus its compiled assertions.
struct ProbeTarget {
  Target target;
  std::shared_ptr<const HttpAssertions> assertions;
  std::string backendHost;  // parsed from target.backend
  int backendPort = 0;      // 0: the URL's port
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

class Prober {
 public:
  using OnResult = std::function<void(ProbeResult)>;
  Prober(EventLoop& loop, DnsResolver& resolver, CurlDriver& curl)
      : loop_(loop), resolver_(resolver), curl_(curl) {}

  // `onResult` runs once per probed address (several in address_mode all), then `onDone` once.
  void probe(std::shared_ptr<const ProbeTarget> target, OnResult onResult,
             std::function<void()> onDone);

 private:
  struct Run;
  void runHttp(const std::shared_ptr<Run>& run, const std::string& address,
               const std::string& label, double dnsSeconds);
  void fail(const std::shared_ptr<Run>& run, const DnsAnswer& answer, const std::string& label);

  EventLoop& loop_;
  DnsResolver& resolver_;
  CurlDriver& curl_;
};

}  // namespace envprobe
