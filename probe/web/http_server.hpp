#pragma once
// The agent's HTTP endpoint (civetweb): /metrics, the status page, a JSON API and health.
// Handlers run on civetweb's threads and only read locked snapshots.
//
// Hardened against its own clients: enough worker threads and a request timeout that idle or
// slow connections (each holds one civetweb thread until the timeout) cannot starve scrapes;
// exact-path routing; optional basic auth (web config) in front of every path; optional TLS,
// terminated by a front end of our own (tls_front.hpp) with civetweb behind it on loopback.
#include <prometheus/collectable.h>

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "probe/web/web_config.hpp"

class CivetServer;

namespace envprobe {

class BasicAuth;
class TlsFront;

struct HttpResponse {
  // Sends one piece of a streamed body; false once the client is gone (stop writing then).
  using BodyWriter = std::function<bool(std::string_view bytes)>;

  HttpResponse() = default;
  HttpResponse(int status, std::string contentType, std::string body = {})
      : status(status), contentType(std::move(contentType)), body(std::move(body)) {}

  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  // When set, the body is produced by this instead of `body`, in pieces, after the headers went
  // out: sent with chunked transfer encoding (HTTP/1.1), gzip-compressed when the request
  // accepts gzip, never held whole. Runs on the serving thread; an exception from it is logged
  // and the connection closed without the last chunk, so the client sees a truncated body.
  std::function<void(const BodyWriter& write)> stream;
};

struct HttpServerOptions {
  WebConfig web;  // from --web.config.file; empty: plain HTTP, no auth
  // Each connection holds a thread until it has sent its request or request_timeout passes, so
  // threads bound how many idle clients the endpoint survives while still answering scrapes.
  int numThreads = 32;
  int requestTimeoutMs = 10000;
};

class HttpServer {
 public:
  struct Request {
    std::string method = "GET";  // GET (also for HEAD: the body is then not sent), or POST
                                 // (also for PUT)
    std::string path;
    std::string query;
    std::string body;             // POST/PUT only, at most kMaxRequestBody bytes
    bool bearerVerified = false;  // the request carried the control API's bearer token
  };
  static constexpr std::size_t kMaxRequestBody = 64 * 1024;
  using Handler = std::function<HttpResponse(const Request& request)>;

  // listen: ":9470", "127.0.0.1:9470" (and "[::1]:9470" with TLS). Throws std::runtime_error
  // when it cannot bind or the web config's TLS settings cannot be used (see tls_front.hpp).
  // /metrics serves the collectables' families, streamed (text_exposition.hpp): each collectable
  // that is a TextCollectable writes its text itself, the others go through TextSerializer.
  HttpServer(const std::string& listen,
             std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
             HttpServerOptions options = {});
  ~HttpServer();

  // GET on exactly `path` (any other path answers 404). May be called while serving.
  void handle(const std::string& path, Handler handler);
  // POST or PUT on exactly `path`; other methods there answer 405.
  void handlePost(const std::string& path, Handler handler);
  // `path` takes the control API's bearer token (`Authorization: Bearer <token>`): such a
  // request skips basic auth and is let through only when `check` accepts the token (401
  // otherwise), with Request::bearerVerified set. Without a bearer header, basic auth applies.
  void acceptBearer(const std::string& path);
  void setBearerCheck(std::function<bool(std::string_view token)> check);
  // The bound port (useful with port 0); with TLS, the TLS front end's.
  int port() const;

 private:
  class Dispatcher;
  friend class Dispatcher;
  HttpResponse dispatch(const Request& request) const;

  mutable std::shared_mutex routesMutex_;
  struct Route {
    Handler get;
    Handler post;
    bool bearer = false;
  };
  bool acceptsBearer(const std::string& path) const;
  bool bearerAllows(std::string_view token) const;
  std::function<bool(std::string_view)> bearerCheck_;  // guarded by routesMutex_
  std::map<std::string, Route> routes_;
  std::unique_ptr<BasicAuth> auth_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<CivetServer> server_;
  std::unique_ptr<TlsFront> tls_;  // with tls_server_config: TLS in front of civetweb
};

// "envprobe.local:9470" style listen address -> civetweb's listening_ports syntax.
std::string civetListeningPorts(const std::string& listen);

// Whether `listen` binds every interface (":9470", "0.0.0.0:9470", "[::]:9470").
bool listensOnAllInterfaces(const std::string& listen);

}  // namespace envprobe
