#include "probe/web/tls_connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <string>

#include "probe/web/tls_context.hpp"
#include "tests/unit/test_files.hpp"
#include "tests/unit/web/tls_test_pki.hpp"

// The connection's deadlines, driven with explicit times: the sockets are a socketpair (the
// client end driven here with OpenSSL, non-blocking) and a loopback listener as the backend.

using envprobe::makeServerContext;
using envprobe::TlsConnection;
using envprobe::TlsLimits;
using envprobe::TlsServerConfig;
using envprobe::testing::makeCert;
using envprobe::testing::TempDir;
using envprobe::testing::writeCert;
using envprobe::testing::writeKey;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

struct Fixture {
  TempDir dir;
  envprobe::SslCtxPtr serverCtx;
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> clientCtx{SSL_CTX_new(TLS_client_method()),
                                                         SSL_CTX_free};
  int fds[2] = {-1, -1};
  int backendListener = -1;
  sockaddr_in backend{};
  SSL* client = nullptr;
  TlsLimits limits;
  const TlsConnection::Clock::time_point t0 = TlsConnection::Clock::time_point{} + 1h;

  Fixture() {
    std::signal(SIGPIPE, SIG_IGN);
    const auto leaf = makeCert("127.0.0.1", nullptr, false, "IP:127.0.0.1");
    TlsServerConfig tls;
    tls.certFile = (dir.path() / "s.crt").string();
    tls.keyFile = (dir.path() / "s.key").string();
    writeCert(tls.certFile, leaf->cert);
    writeKey(tls.keyFile, leaf->key);
    serverCtx = makeServerContext(tls);
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    client = SSL_new(clientCtx.get());
    SSL_set_fd(client, fds[1]);
    SSL_set_connect_state(client);
    // A backend that never accepts: connects complete in its backlog, nothing answers.
    backendListener = ::socket(AF_INET, SOCK_STREAM, 0);
    backend.sin_family = AF_INET;
    backend.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(backendListener, reinterpret_cast<sockaddr*>(&backend), sizeof backend) == 0);
    socklen_t len = sizeof backend;
    ::getsockname(backendListener, reinterpret_cast<sockaddr*>(&backend), &len);
    REQUIRE(::listen(backendListener, 8) == 0);
  }
  ~Fixture() {
    SSL_free(client);
    ::close(fds[1]);
    ::close(backendListener);
  }
  // Alternates the client's and the connection's handshake steps until the client is done.
  bool handshake(TlsConnection& c, TlsConnection::Clock::time_point now) {
    for (int i = 0; i < 20; ++i) {
      if (SSL_do_handshake(client) == 1) {
        c.advance(now, 0);  // reads the client's Finished
        return true;
      }
      c.advance(now, 0);
    }
    return false;
  }
};

}  // namespace

TEST_CASE("tls connection: a client that sends nothing is closed at the handshake deadline",
          "[web][tls]") {
  Fixture f;
  TlsConnection c(f.fds[0], f.serverCtx.get(), f.backend, f.limits, f.t0);
  c.advance(f.t0, 0);
  CHECK_FALSE(c.done());
  CHECK(c.clientPoll().fd == f.fds[0]);
  CHECK(c.clientPoll().events == POLLIN);
  CHECK(c.backendPoll().fd == -1);
  CHECK(c.deadline() == f.t0 + 10s);
  c.advance(f.t0 + 9999ms, 0);
  CHECK_FALSE(c.done());
  c.advance(f.t0 + 10s, 0);
  CHECK(c.done());
}

TEST_CASE("tls connection: garbage instead of a ClientHello ends the connection at once",
          "[web][tls]") {
  Fixture f;
  TlsConnection c(f.fds[0], f.serverCtx.get(), f.backend, f.limits, f.t0);
  // A handshake record of 5 bytes whose message header claims 6.6 MB, then a bad record type.
  const std::string garbage = "\x16\x03\x01\x00\x05hello, this is not TLS"s;
  REQUIRE(::send(f.fds[1], garbage.data(), garbage.size(), 0) > 0);
  c.advance(f.t0, 0);
  CHECK(c.done());
}

TEST_CASE("tls connection: the request head has its own deadline, then the idle timeout",
          "[web][tls]") {
  Fixture f;
  TlsConnection c(f.fds[0], f.serverCtx.get(), f.backend, f.limits, f.t0);
  const auto t1 = f.t0 + 3s;
  REQUIRE(f.handshake(c, t1));
  CHECK_FALSE(c.done());
  CHECK(c.deadline() == t1 + 10s);

  // Half a head: still waiting for the rest, the backend not dialled.
  const std::string part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  REQUIRE(SSL_write(f.client, part.data(), static_cast<int>(part.size())) > 0);
  c.advance(t1 + 5s, 0);
  CHECK_FALSE(c.done());
  CHECK(c.backendPoll().fd == -1);
  CHECK(c.deadline() == t1 + 10s);

  SECTION("no rest within the deadline") {
    c.advance(t1 + 10s, 0);
    CHECK(c.done());
  }
  SECTION("the rest arrives: the backend is dialled, then the idle timeout applies") {
    REQUIRE(SSL_write(f.client, "\r\n", 2) > 0);
    const auto t2 = t1 + 6s;
    c.advance(t2, POLLOUT);  // connect done (or pending) and the head written on
    c.advance(t2, POLLOUT);
    CHECK_FALSE(c.done());
    CHECK(c.backendPoll().fd >= 0);
    CHECK(c.deadline() == t2 + 60s);
    c.advance(t2 + 59s, 0);
    CHECK_FALSE(c.done());
    c.advance(t2 + 60s, 0);
    CHECK(c.done());
  }
}

TEST_CASE("tls connection: closed before any request", "[web][tls]") {
  Fixture f;
  TlsConnection c(f.fds[0], f.serverCtx.get(), f.backend, f.limits, f.t0);
  REQUIRE(f.handshake(c, f.t0));
  SSL_shutdown(f.client);  // close_notify, no request
  c.advance(f.t0, 0);
  CHECK(c.done());
}
