#include "probe/web/tls_front.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "probe/base/internal_errors.hpp"
#include "probe/base/logging.hpp"
#include "probe/web/tls_context.hpp"

namespace envprobe {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Binds and listens on the first address `listen` resolves to that works. Non-blocking.
int bindListener(const std::string& listen) {
  const ListenParts parts = splitListen(listen);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  // ":9470" binds every IPv4 interface, as civetweb does for the plain endpoint.
  const char* host = parts.host.empty() ? "0.0.0.0" : parts.host.c_str();
  if (const int rc = ::getaddrinfo(host, parts.port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot listen on " + listen + ": " + ::gai_strerror(rc));
  std::string error = "no address";
  int listener = -1;
  for (addrinfo* ai = found; ai && listener < 0; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listener = fd;
    } else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listener < 0) throw std::runtime_error("cannot listen on " + listen + ": " + error);
  return listener;
}

int boundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

ListenParts splitListen(const std::string& listen) {
  ListenParts parts;
  std::string rest;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string::npos)
      throw std::runtime_error("cannot listen on " + listen + ": no ']' after the IPv6 address");
    parts.host = listen.substr(1, close - 1);
    rest = listen.substr(close + 1);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos)
      throw std::runtime_error("cannot listen on " + listen + ": no port");
    parts.host = listen.substr(0, colon);
    rest = listen.substr(colon);
  }
  if (rest.size() < 2 || rest.front() != ':')
    throw std::runtime_error("cannot listen on " + listen + ": no port");
  parts.port = rest.substr(1);
  return parts;
}

struct TlsFront::Impl {
  Impl(const std::string& listen, const TlsServerConfig& tls, int backendPort, TlsFrontOptions opts)
      : contexts(tls, opts.reloadCheckEvery),
        options(opts),
        listener(bindListener(listen)),
        wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake.fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    backend.sin_family = AF_INET;
    backend.sin_port = htons(static_cast<uint16_t>(backendPort));
    backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    port = boundPort(listener.fd);
  }

  void run() noexcept;
  void loopOnce(std::vector<pollfd>& fds, bool& stop);
  void acceptSome(Clock::time_point now);

  TlsContextSource contexts;
  TlsFrontOptions options;
  Fd listener;
  Fd wake;
  sockaddr_in backend{};
  int port = 0;
  std::vector<std::unique_ptr<TlsConnection>> connections;
  Clock::time_point acceptPausedUntil{};
  Clock::time_point lastResourceWarning{};
  std::thread thread;
};

void TlsFront::Impl::run() noexcept {
  std::vector<pollfd> fds;
  for (bool stop = false; !stop;) {
    try {
      loopOnce(fds, stop);
    } catch (const std::exception& e) {
      reportInternalError("TLS front end", e.what());
      std::this_thread::sleep_for(milliseconds(100));  // a lasting failure must not spin
    } catch (...) {
      reportInternalError("TLS front end", "unknown exception");
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
}

void TlsFront::Impl::loopOnce(std::vector<pollfd>& fds, bool& stop) {
  Clock::time_point now = Clock::now();
  const bool accepting = now >= acceptPausedUntil;
  Clock::time_point next = now + milliseconds(1000);
  if (!accepting) next = std::min(next, acceptPausedUntil);
  bool busy = false;
  fds.clear();
  fds.push_back({wake.fd, POLLIN, 0});
  fds.push_back({accepting ? listener.fd : -1, POLLIN, 0});
  for (const auto& c : connections) {
    fds.push_back(c->clientPoll());
    fds.push_back(c->backendPoll());
    next = std::min(next, c->deadline());
    busy = busy || c->busy();
  }
  const auto wait = std::chrono::ceil<milliseconds>(next - now).count();
  const int timeout = busy ? 0 : static_cast<int>(std::clamp<long long>(wait, 0, 1000));
  if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
    throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
  if (fds[0].revents != 0) {
    stop = true;
    return;
  }
  now = Clock::now();
  for (std::size_t i = 0; i < connections.size(); ++i) {
    TlsConnection& c = *connections[i];
    const short clientRevents = fds[2 + 2 * i].revents;
    const short backendRevents = fds[3 + 2 * i].revents;
    if (clientRevents || backendRevents || c.busy() || now >= c.deadline())
      c.advance(now, backendRevents);
  }
  std::erase_if(connections, [](const auto& c) { return c->done(); });
  if (fds[1].revents != 0) acceptSome(now);
}

void TlsFront::Impl::acceptSome(Clock::time_point now) {
  // A bounded batch per round, so a flood of connects cannot keep the loop from the others.
  for (int i = 0; i < 64; ++i) {
    const int fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      // Out of descriptors or memory: the pending connection stays queued and the listener
      // would wake the loop at once, forever; pause accepting for a moment instead.
      if (now - lastResourceWarning > std::chrono::seconds(10)) {
        logWarn("TLS endpoint cannot accept connections", {{"err", std::strerror(errno)}});
        lastResourceWarning = now;
      }
      acceptPausedUntil = now + milliseconds(100);
      return;
    }
    if (connections.size() >= options.maxConnections) {
      ::close(fd);  // over the cap: closed at once
      continue;
    }
    auto connection =
        std::make_unique<TlsConnection>(fd, contexts.current(now), backend, options.limits, now);
    connection->advance(now, 0);
    if (!connection->done()) connections.push_back(std::move(connection));
  }
}

TlsFront::TlsFront(const std::string& listen, const TlsServerConfig& tls, int backendPort,
                   TlsFrontOptions options)
    : impl_(std::make_unique<Impl>(listen, tls, backendPort, options)) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

TlsFront::~TlsFront() {
  const std::uint64_t one = 1;
  while (::write(impl_->wake.fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

int TlsFront::port() const { return impl_->port; }

}  // namespace envprobe
