#pragma once
// Where the router's alerts go: the Alertmanager client in production, a recorder in tests.
#include <cstddef>
#include <vector>

#include "probe/alerting/alert_model.hpp"

namespace envprobe {

class AlertSender {
 public:
  virtual ~AlertSender() = default;
  virtual void send(const std::vector<OutgoingAlert>& alerts) = 0;
  // Alerts accepted and not yet delivered everywhere (the shutdown sequence waits on it).
  virtual std::size_t queued() const = 0;
};

}  // namespace envprobe
