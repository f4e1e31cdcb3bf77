#pragma once
// The demo's built-in site on loopback: it answers its internal hostname and refuses every other
// Host with HTTP 400 "Invalid Hostname" — the forgotten public hostname, reproduced.
#include <memory>
#include <string>

class CivetServer;

namespace envprobe {

class DemoSite {
 public:
  // Throws std::runtime_error when it cannot listen.
  DemoSite(std::string boundHostname, const std::string& environment);
  ~DemoSite();
  int port() const { return port_; }

 private:
  class Handler;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

// A free TCP port on 127.0.0.1 (the kernel's choice).
int pickFreeLoopbackPort();

}  // namespace envprobe
