#pragma once
// Runs one probe of one target on the event loop: resolve (c-ares) or use the pinned backend,
// run the HTTP check on each address, judge each observation. Results are values; nothing throws.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "checks/probe_result.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/dns_resolver.hpp"

namespace envprobe {

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
