#include "checks/probe_result.hpp"

#include <algorithm>
#include <cstdlib>

namespace envprobe {

std::shared_ptr<ProbeTarget> prepareTarget(Target target,
                                           std::shared_ptr<const HttpAssertions> assertions) {
  auto prepared = std::make_shared<ProbeTarget>();
  const std::string& backend = target.backend;
  if (!backend.empty()) {
    // "10.0.1.5:443", "[fd00::5]:443", "blue.internal:8443", "10.0.1.5"
    std::string host = backend;
    std::string port;
    if (backend.front() == '[') {
      const auto close = backend.find(']');
      host = backend.substr(1, close - 1);
      if (close + 1 < backend.size() && backend[close + 1] == ':') port = backend.substr(close + 2);
    } else if (std::count(backend.begin(), backend.end(), ':') == 1) {
      host = backend.substr(0, backend.find(':'));
      port = backend.substr(backend.find(':') + 1);
    }
    prepared->backendHost = host;
    prepared->backendPort = port.empty() ? 0 : std::atoi(port.c_str());
  }
  prepared->target = std::move(target);
  prepared->assertions = std::move(assertions);
  return prepared;
}

}  // namespace envprobe
