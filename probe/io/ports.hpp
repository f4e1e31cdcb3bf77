#pragma once
// What the engine needs from the network, as interfaces: the c-ares resolver and the curl
// transport implement them in production; the unit tests implement them with scripted fakes.
// Every operation can be cancelled, and a cancelled operation never calls back.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "checks/observation.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

struct DnsAnswer {
  TransportError error = TransportError::None;  // None or one of the Dns* kinds
  std::string detail;
  std::vector<std::string> addresses;  // textual IPs, IPv4 first
  double seconds = 0;
};

class Resolver {
 public:
  using QueryId = std::uint64_t;  // never 0
  virtual ~Resolver() = default;
  // `done` runs on the loop, later (never from inside resolve()).
  virtual QueryId resolve(const std::string& hostname, std::function<void(DnsAnswer)> done) = 0;
  virtual void cancel(QueryId id) = 0;
};

// One HTTP exchange, one hop: redirects are followed by the caller, hop by hop, so that every
// hop is resolved in the environment (pinned backend or the environment's resolver).
struct HttpRequest {
  const HttpCheckSpec* spec = nullptr;
  std::string url;             // with the hostname: Host header and SNI stay the hostname
  std::string hostname;        // the URL's host
  int port = 0;                // the URL's port
  std::string method;          // empty: the spec's method
  bool sendBody = true;        // false after a redirect that turns the request into a GET
  bool sendCustomHeaders = true;  // false once a redirect left the original origin
  std::string connectAddress;  // IP literal to connect to
  int connectPort = 0;         // 0: the URL's port
  long timeoutMs = 10000;
};

class HttpTransport {
 public:
  using TransferId = std::uint64_t;  // never 0
  virtual ~HttpTransport() = default;
  // `done` runs on the loop, later, with what this hop saw (redirectUrl set for a 3xx with a
  // Location the transport could make absolute).
  virtual TransferId start(const HttpRequest& request, std::function<void(Observation)> done) = 0;
  virtual void cancel(TransferId id) = 0;
};

}  // namespace envprobe
