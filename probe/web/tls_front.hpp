#pragma once
// TLS for the agent's endpoint, terminated here with OpenSSL in front of civetweb (the system
// civetweb 1.15 cannot do TLS with OpenSSL 3). The front end listens on the configured address;
// civetweb listens on an ephemeral loopback port and sees plain HTTP from 127.0.0.1.
//
// One thread runs a poll loop over non-blocking sockets (tls_connection.hpp does the per
// connection work). Bounded against hostile clients: a deadline for the handshake and for the
// request head, an idle timeout, fixed-size buffers per connection, and a cap on connections
// (one more is accepted and closed at once). The certificate is re-read when its files change.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "probe/web/tls_connection.hpp"
#include "probe/web/web_config.hpp"

namespace envprobe {

struct TlsFrontOptions {
  TlsLimits limits;
  std::size_t maxConnections = 256;
  std::chrono::milliseconds reloadCheckEvery{1000};
};

class TlsFront {
 public:
  // listen: ":9470", "127.0.0.1:9470", "[::1]:9470", "host:9470"; the backend is
  // 127.0.0.1:backendPort. Throws std::runtime_error when the context cannot be built (see
  // makeServerContext) or the address cannot be bound.
  TlsFront(const std::string& listen, const TlsServerConfig& tls, int backendPort,
           TlsFrontOptions options = {});
  // Stops the thread and closes every socket; connections in flight are cut.
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;
  TlsFront& operator=(const TlsFront&) = delete;

  int port() const;  // the bound port (useful with port 0)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "[::1]:9470" -> {"::1", "9470"}, ":9470" -> {"", "9470"}, "h:1" -> {"h", "1"}. Pure; throws
// std::runtime_error when there is no port.
struct ListenParts {
  std::string host;
  std::string port;
};
ListenParts splitListen(const std::string& listen);

}  // namespace envprobe
