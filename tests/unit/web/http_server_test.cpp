#include "probe/web/http_server.hpp"
#include "probe/web/bind_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

using envprobe::HttpResponse;
using envprobe::HttpServer;
using envprobe::HttpServerOptions;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// bcrypt of "s3cret" at cost 4; "cHJvbWV0aGV1czpzM2NyZXQ=" is base64 of "prometheus:s3cret".
const std::string kHash = "$2b$04$T7.ox6bJECJvUrmtHJZGROiFcC/WuuldgN3RkgAFHzxd.8Sj7QZ3G";

// One blocking HTTP/1.0 exchange with the server on loopback; returns the whole response.
std::string get(int port, const std::string& path, const std::string& headers = "",
                const std::string& method = "GET") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  const std::string request =
      method + " " + path + " HTTP/1.0\r\nHost: t\r\n" + headers + "\r\n";
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
  ::close(fd);
  return response;
}

}  // namespace

TEST_CASE("http server: routes are exact paths", "[web]") {
  HttpServer server("127.0.0.1:0", {});
  server.handle("/", [](const HttpServer::Request&) { return HttpResponse{200, "text/plain", "root\n"}; });
  const int port = server.port();
  REQUIRE(port > 0);
  CHECK_THAT(get(port, "/-/healthy"), StartsWith("HTTP/1.1 200"));
  CHECK_THAT(get(port, "/metrics"), StartsWith("HTTP/1.1 200"));
  CHECK_THAT(get(port, "/?x=1"), Contains("root"));
  CHECK_THAT(get(port, "/metricsfoo"), StartsWith("HTTP/1.1 404"));
  CHECK_THAT(get(port, "/-/healthy/x"), StartsWith("HTTP/1.1 404"));
  CHECK_THAT(get(port, "/nope"), StartsWith("HTTP/1.1 404"));
}

TEST_CASE("http server: basic auth guards every path, known or not", "[web]") {
  HttpServerOptions options;
  options.web.basicAuthUsers = {{"prometheus", kHash}};
  HttpServer server("127.0.0.1:0", {}, options);
  const int port = server.port();
  const std::string right = "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n";
  for (const char* path : {"/metrics", "/-/healthy", "/metricsfoo"}) {
    const std::string denied = get(port, path);
    CHECK_THAT(denied, StartsWith("HTTP/1.1 401"));
    CHECK_THAT(denied, Contains("WWW-Authenticate: Basic realm=\"envprobe\""));
    CHECK_THAT(get(port, path, "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n"),
               StartsWith("HTTP/1.1 401"));
  }
  CHECK_THAT(get(port, "/metrics", right), StartsWith("HTTP/1.1 200"));
  CHECK_THAT(get(port, "/metricsfoo", right), StartsWith("HTTP/1.1 404"));
}

TEST_CASE("http server: a TLS web config with unusable files is refused with the reason",
          "[web]") {
  HttpServerOptions options;
  envprobe::TlsServerConfig tls;
  tls.certFile = "/nonexistent/a.crt";
  tls.keyFile = "/nonexistent/a.key";
  options.web.tls = tls;
  CHECK_THROWS_WITH(HttpServer("127.0.0.1:0", {}, options),
                    Contains("tls_server_config.cert_file \"/nonexistent/a.crt\": cannot load"));
}

TEST_CASE("http server: a handler that throws answers 500 and the server goes on", "[web]") {
  HttpServer server("127.0.0.1:0", {});
  server.handle("/boom", [](const HttpServer::Request&) -> HttpResponse {
    throw std::runtime_error("handler failed");
  });
  const int port = server.port();
  REQUIRE(port > 0);
  CHECK_THAT(get(port, "/boom"), StartsWith("HTTP/1.1 500"));
  CHECK_THAT(get(port, "/-/healthy"), StartsWith("HTTP/1.1 200"));
}

TEST_CASE("http server: POST routes; the wrong method answers 405", "[web]") {
  HttpServer server("127.0.0.1:0", {});
  server.handlePost("/-/reload", [](const HttpServer::Request& r) {
    return HttpResponse{200, "text/plain", "posted " + r.method + "\n"};
  });
  const int port = server.port();
  CHECK_THAT(get(port, "/-/reload", "Content-Length: 0\r\n", "POST"), Contains("posted POST"));
  CHECK_THAT(get(port, "/-/reload", "Content-Length: 0\r\n", "PUT"), Contains("posted POST"));
  const std::string wrong = get(port, "/-/reload");
  CHECK_THAT(wrong, StartsWith("HTTP/1.1 405"));
  CHECK_THAT(wrong, Contains("Allow: POST, PUT"));
  CHECK_THAT(get(port, "/metrics", "Content-Length: 0\r\n", "POST"), StartsWith("HTTP/1.1 405"));
  CHECK_THAT(get(port, "/-/reloadx", "Content-Length: 0\r\n", "POST"), StartsWith("HTTP/1.1 404"));
}

TEST_CASE("http server: a port in use is reported in the system's words", "[web]") {
  HttpServer first("127.0.0.1:0", {});
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  try {
    HttpServer second(taken, {});
    FAIL("a second server bound " << taken);
  } catch (const std::runtime_error& e) {
    CHECK_THAT(std::string(e.what()), Contains("cannot listen on " + taken));
    CHECK_THAT(std::string(e.what()), Contains("Address already in use"));
  }
  CHECK(envprobe::bindFailure(taken) == std::optional<std::string>("Address already in use"));
  CHECK_FALSE(envprobe::bindFailure("127.0.0.1:0").has_value());
}
