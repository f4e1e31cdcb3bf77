#include "probe/web/tls_front.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>
#include <string>

#include "probe/web/http_server.hpp"
#include "tests/unit/test_files.hpp"
#include "tests/unit/web/tls_test_pki.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using envprobe::ByteQueue;
using envprobe::HttpServer;
using envprobe::HttpServerOptions;
using envprobe::requestHeadEnd;
using envprobe::splitListen;
using envprobe::TlsFront;
using envprobe::TlsFrontOptions;
using envprobe::TlsServerConfig;
using envprobe::testing::connectLoopback;
using envprobe::testing::makeCert;
using envprobe::testing::readAll;
using envprobe::testing::TempDir;
using envprobe::testing::TlsClientOptions;
using envprobe::testing::tlsGet;
using envprobe::testing::writeCert;
using envprobe::testing::writeKey;

namespace {

// bcrypt of "s3cret" at cost 4; the header carries base64 of "prometheus:s3cret".
const std::string kHash = "$2b$04$T7.ox6bJECJvUrmtHJZGROiFcC/WuuldgN3RkgAFHzxd.8Sj7QZ3G";
const std::string kAuthorization = "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n";

// A CA, a server certificate it signs for 127.0.0.1 and ::1, and a client certificate.
struct Pki {
  TempDir dir;
  TlsServerConfig server;
  std::string caFile, clientCert, clientKey;
  Pki() {
    const auto ca = makeCert("envprobe test CA", nullptr, true);
    const auto leaf = makeCert("127.0.0.1", ca.get(), false, "IP:127.0.0.1,IP:::1", 2);
    const auto client = makeCert("scraper", ca.get(), false, "DNS:scraper.test", 3);
    caFile = (dir.path() / "ca.pem").string();
    server.certFile = (dir.path() / "server.crt").string();
    server.keyFile = (dir.path() / "server.key").string();
    clientCert = (dir.path() / "client.crt").string();
    clientKey = (dir.path() / "client.key").string();
    writeCert(caFile, ca->cert);
    writeCert(server.certFile, leaf->cert);
    writeKey(server.keyFile, leaf->key);
    writeCert(clientCert, client->cert);
    writeKey(clientKey, client->key);
  }
  TlsClientOptions client() const { return {caFile, 0, "", "", false}; }
};

HttpServerOptions withTls(const TlsServerConfig& tls) {
  HttpServerOptions options;
  options.web.tls = tls;
  return options;
}

}  // namespace

TEST_CASE("tls front: the end of a request head", "[web][tls]") {
  CHECK(requestHeadEnd("") == 0);
  CHECK(requestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
  CHECK(requestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 27);
  CHECK(requestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27);
  CHECK(requestHeadEnd("GET / HTTP/1.0\n\n") == 16);
  CHECK(requestHeadEnd("\r\n\r") == 0);
}

TEST_CASE("tls front: a byte queue keeps its capacity and order", "[web][tls]") {
  ByteQueue q(8);
  CHECK(q.room() == 8);
  std::memcpy(q.back(), "abcdef", 6);
  q.commit(6);
  q.consume(4);
  CHECK(q.view() == "ef");
  CHECK(q.room() == 6);
  std::memcpy(q.back(), "ghijkl", 6);  // compacts: "ef" moves to the front
  q.commit(6);
  CHECK(q.full());
  CHECK(q.view() == "efghijkl");
  q.consume(8);
  CHECK(q.empty());
  CHECK(q.room() == 8);
}

TEST_CASE("tls front: listen addresses", "[web][tls]") {
  CHECK(splitListen(":9470").host.empty());
  CHECK(splitListen(":9470").port == "9470");
  CHECK(splitListen("127.0.0.1:0").host == "127.0.0.1");
  CHECK(splitListen("[::1]:9470").host == "::1");
  CHECK(splitListen("[::1]:9470").port == "9470");
  CHECK(splitListen("envprobe.local:1").host == "envprobe.local");
  CHECK_THROWS_WITH(splitListen("9470"), Contains("no port"));
  CHECK_THROWS_WITH(splitListen("[::1]"), Contains("no port"));
  CHECK_THROWS_WITH(splitListen("[::1:9470"), Contains("no ']'"));
}

TEST_CASE("tls front: the endpoint over TLS, with basic auth", "[web][tls]") {
  Pki pki;
  HttpServerOptions options = withTls(pki.server);
  options.web.basicAuthUsers = {{"prometheus", kHash}};
  HttpServer server("127.0.0.1:0", {}, options);
  const int port = server.port();
  REQUIRE(port > 0);
  CHECK_THAT(tlsGet(port, "/-/healthy", pki.client()), StartsWith("HTTP/1.1 401"));
  CHECK_THAT(tlsGet(port, "/-/healthy", pki.client(), kAuthorization),
             StartsWith("HTTP/1.1 200") && Contains("OK\n"));
  CHECK_THAT(tlsGet(port, "/metricsfoo", pki.client(), kAuthorization), StartsWith("HTTP/1.1 404"));
  {  // an answer far larger than the front end's buffers arrives whole
    std::string big(3 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
    server.handle("/big", [big](const HttpServer::Request&) {
      return envprobe::HttpResponse{200, "text/plain", big};
    });
    const std::string response = tlsGet(port, "/big", pki.client(), kAuthorization);
    CHECK_THAT(response, StartsWith("HTTP/1.1 200"));
    const auto bodyAt = response.find("\r\n\r\n");
    REQUIRE(bodyAt != std::string::npos);
    CHECK(response.substr(bodyAt + 4) == big);
  }
  {  // a request head larger than the buffer is passed on (civetweb refuses it), and no more
    const std::string huge = "X-Huge: " + std::string(40000, 'h') + "\r\n";
    CHECK_THAT(tlsGet(port, "/-/healthy", pki.client(), kAuthorization + huge),
               !StartsWith("HTTP/1.1 200"));
  }

  // Each server start and stop costs civetweb about 2 s, so one server serves every step here.
  {  // plain HTTP on the TLS port gets no HTTP answer
    const int fd = connectLoopback(port);
    const std::string request = "GET /-/healthy HTTP/1.0\r\n" + kAuthorization + "\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    const std::string answer = readAll(fd);
    ::close(fd);
    CHECK(answer.rfind("HTTP/", 0) == std::string::npos);
    CHECK_THAT(tlsGet(port, "/-/healthy", pki.client(), kAuthorization),
               StartsWith("HTTP/1.1 200"));
  }
  {  // garbage instead of a ClientHello closes that connection only
    const int fd = connectLoopback(port);
    std::string garbage(3000, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
    garbage[0] = 0x16;  // a handshake record header, then nonsense
    ::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
    readAll(fd);  // returns once the server closes
    ::close(fd);
    CHECK_THAT(tlsGet(port, "/-/healthy", pki.client(), kAuthorization),
               StartsWith("HTTP/1.1 200"));
  }
  {  // a client silent after connecting does not block another
    const int idle = connectLoopback(port);
    CHECK_THAT(tlsGet(port, "/-/healthy", pki.client(), kAuthorization),
               StartsWith("HTTP/1.1 200"));
    ::close(idle);
  }
}

TEST_CASE("tls front: min_version TLS13 refuses a TLS 1.2 client", "[web][tls]") {
  Pki pki;
  TlsServerConfig tls = pki.server;
  tls.minVersion = "TLS13";
  HttpServer server("127.0.0.1:0", {}, withTls(tls));
  TlsClientOptions old = pki.client();
  old.maxVersion = TLS1_2_VERSION;
  CHECK(tlsGet(server.port(), "/-/healthy", old) == "<handshake failed>");
  CHECK_THAT(tlsGet(server.port(), "/-/healthy", pki.client()), StartsWith("HTTP/1.1 200"));
}

TEST_CASE("tls front: RequireAndVerifyClientCert", "[web][tls]") {
  Pki pki;
  TlsServerConfig tls = pki.server;
  tls.clientAuthType = "RequireAndVerifyClientCert";
  tls.clientCaFile = pki.caFile;
  HttpServer server("127.0.0.1:0", {}, withTls(tls));
  // Without a certificate: no answer (TLS 1.3 reports the refusal after the client's handshake).
  CHECK_THAT(tlsGet(server.port(), "/-/healthy", pki.client()), !StartsWith("HTTP/1.1"));
  TlsClientOptions withCert = pki.client();
  withCert.certFile = pki.clientCert;
  withCert.keyFile = pki.clientKey;
  CHECK_THAT(tlsGet(server.port(), "/-/healthy", withCert), StartsWith("HTTP/1.1 200"));
  // A certificate from another CA is refused.
  TempDir other;
  const auto stranger = makeCert("stranger", nullptr, false, "DNS:stranger.test");
  withCert.certFile = (other.path() / "s.crt").string();
  withCert.keyFile = (other.path() / "s.key").string();
  writeCert(withCert.certFile, stranger->cert);
  writeKey(withCert.keyFile, stranger->key);
  CHECK_THAT(tlsGet(server.port(), "/-/healthy", withCert), !StartsWith("HTTP/1.1"));
}

TEST_CASE("tls front: connections over the cap are closed at once", "[web][tls]") {
  Pki pki;
  TlsFrontOptions options;
  options.maxConnections = 2;
  TlsFront front("127.0.0.1:0", pki.server, 1, options);  // no client gets as far as the backend
  // Accepted in order: the first two are held (waiting for a ClientHello), the third is closed.
  const int first = connectLoopback(front.port());
  const int second = connectLoopback(front.port());
  const int third = connectLoopback(front.port());
  CHECK(readAll(third).empty());
  ::close(third);
  ::close(first);
  ::close(second);
}

TEST_CASE("tls front: IPv6 loopback", "[web][tls]") {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool haveIpv6 =
      probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (probe >= 0) ::close(probe);
  if (!haveIpv6) {
    WARN("no IPv6 loopback here; not tested");
    return;
  }
  Pki pki;
  HttpServer server("[::1]:0", {}, withTls(pki.server));
  TlsClientOptions client = pki.client();
  client.ipv6 = true;
  CHECK_THAT(tlsGet(server.port(), "/-/healthy", client), StartsWith("HTTP/1.1 200"));
}

TEST_CASE("tls front: bad settings are refused at start", "[web][tls]") {
  Pki pki;
  TlsServerConfig tls = pki.server;
  tls.keyFile = pki.clientKey;
  CHECK_THROWS_WITH(TlsFront("127.0.0.1:0", tls, 1), Contains("does not match cert_file"));
  CHECK_THROWS_WITH(TlsFront("256.0.0.1:0", pki.server, 1),
                    StartsWith("cannot listen on 256.0.0.1:0"));
}
