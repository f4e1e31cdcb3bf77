#pragma once
// Name resolution with c-ares on the event loop, against the environment's own resolvers.
#include <ares.h>

#include <functional>
#include <string>
#include <vector>

#include "checks/observation.hpp"
#include "probe/config/config_model.hpp"
#include "probe/io/event_loop.hpp"

namespace envprobe {

struct DnsAnswer {
  TransportError error = TransportError::None;  // None or one of the Dns* kinds
  std::string detail;
  std::vector<std::string> addresses;  // textual IPs, IPv4 first
  double seconds = 0;
};

class DnsResolver {
 public:
  // Throws std::runtime_error when the channel cannot be set up (bad server list).
  DnsResolver(EventLoop& loop, const DnsSettings& settings);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  void resolve(const std::string& hostname, std::function<void(DnsAnswer)> done);
  std::string serversDescription() const;

 private:
  static void onSockState(void* data, ares_socket_t fd, int readable, int writable);
  void processFd(int fd, std::uint32_t events);
  void rearmTimer();

  EventLoop& loop_;
  ares_channel channel_ = nullptr;
  EventLoop::TimerId timer_ = 0;
  std::string servers_;
};

// Whether `text` is a literal IPv4/IPv6 address.
bool isIpLiteral(const std::string& text);

}  // namespace envprobe
