#pragma once
// Name resolution with c-ares on the event loop, against the environment's own resolvers.
// Queries can be cancelled one by one (c-ares 1.18 can only cancel all): a cancelled query's
// answer is dropped when c-ares delivers it. Destroying the resolver delivers nothing.
#include <ares.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "probe/config/config_model.hpp"
#include "probe/io/event_loop.hpp"
#include "probe/io/ports.hpp"

namespace envprobe {

class DnsResolver : public Resolver {
 public:
  // Throws std::runtime_error when the channel cannot be set up (bad server list).
  DnsResolver(EventLoop& loop, const DnsSettings& settings);
  ~DnsResolver() override;
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  QueryId resolve(const std::string& hostname, std::function<void(DnsAnswer)> done) override;
  void cancel(QueryId id) override;
  // Cancels every query (their callbacks never run).
  void cancelAll();

  struct Query;  // public for the C callback

 private:
  static void onSockState(void* data, ares_socket_t fd, int readable, int writable);
  static void onAddrInfo(void* arg, int status, int timeouts, ares_addrinfo* result);
  void processFd(int fd, std::uint32_t events);
  void rearmTimer();

  EventLoop& loop_;
  ares_channel channel_ = nullptr;
  OwnedTimer timer_;
  QueryId nextId_ = 1;
  std::unordered_map<QueryId, Query*> queries_;  // live (not cancelled) queries
  bool destroying_ = false;
};

}  // namespace envprobe
