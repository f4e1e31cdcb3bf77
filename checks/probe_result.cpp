#include "checks/probe_result.hpp"

#include "probe/config/address_rules.hpp"

#include <cstdint>

namespace envprobe {

std::shared_ptr<ProbeTarget> prepareTarget(Target target,
                                           std::shared_ptr<const HttpAssertions> assertions) {
  auto prepared = std::make_shared<ProbeTarget>();
  const std::string& secretQuery = target.http->secrets.query;
  if (!secretQuery.empty())
    prepared->secretUrl = std::make_shared<const std::string>(
        target.url + (target.url.find('?') == std::string::npos ? "?" : "&") + secretQuery);
  prepared->target = std::move(target);
  const std::string& text = prepared->target.backend;
  if (!text.empty()) {
    // "10.0.1.5:443", "[fd00::5]:443", "blue.internal:8443", "10.0.1.5": the host is a part
    // of the text (kept as where it is, not as a copy).
    const BackendAddress backend = splitBackend(text);
    const std::size_t at = text.find(backend.host);  // always found: splitBackend cuts, no more
    if (!backend.host.empty() && at != std::string::npos && text.size() <= UINT32_MAX) {
      prepared->backendHostAt = static_cast<std::uint32_t>(at);
      prepared->backendHostSize = static_cast<std::uint32_t>(backend.host.size());
    }
    prepared->backendPort = backend.port;
  }
  prepared->assertions = std::move(assertions);
  return prepared;
}

}  // namespace envprobe
