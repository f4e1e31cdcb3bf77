#include "checks/probe_result.hpp"

#include "probe/config/address_rules.hpp"

namespace envprobe {

std::shared_ptr<ProbeTarget> prepareTarget(Target target,
                                           std::shared_ptr<const HttpAssertions> assertions) {
  auto prepared = std::make_shared<ProbeTarget>();
  if (!target.backend.empty()) {
    // "10.0.1.5:443", "[fd00::5]:443", "blue.internal:8443", "10.0.1.5"
    const BackendAddress backend = splitBackend(target.backend);
    prepared->backendHost = backend.host;
    prepared->backendPort = backend.port;
  }
  const std::string& secretQuery = target.http->secrets.query;
  if (!secretQuery.empty())
    prepared->secretUrl =
        target.url + (target.url.find('?') == std::string::npos ? "?" : "&") + secretQuery;
  prepared->target = std::move(target);
  prepared->assertions = std::move(assertions);
  return prepared;
}

}  // namespace envprobe
