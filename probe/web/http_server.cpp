#include "probe/web/http_server.hpp"

#include "probe/base/internal_errors.hpp"

#include <CivetServer.h>
#include <malloc.h>

#include <chrono>
#include <mutex>
#include <string_view>
#include <stdexcept>

#include "probe/metrics/text_exposition.hpp"
#include "probe/web/basic_auth.hpp"
#include "probe/web/bind_check.hpp"
#include "probe/web/response_stream.hpp"
#include "probe/web/tls_front.hpp"

namespace envprobe {

std::string civetListeningPorts(const std::string& listen) {
  if (!listen.empty() && listen.front() == ':') return listen.substr(1);
  return listen;
}

bool listensOnAllInterfaces(const std::string& listen) {
  const auto colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

namespace {

int civetPort(CivetServer& server) {
  const auto ports = server.getListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

void send(mg_connection* conn, const HttpResponse& response, const char* extraHeaders = "",
          bool head = false) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
            response.status, mg_get_response_code_text(conn, response.status),
            response.contentType.c_str(), response.body.size(), extraHeaders);
  if (!head) mg_write(conn, response.body.data(), response.body.size());
}

// A streamed body: chunked for HTTP/1.1 clients (to an HTTP/1.0 client the end of the body is
// the end of the connection), gzip when accepted. Nothing large stays after it: the buffers are
// freed and the serving thread's malloc arena is trimmed.
void sendStreamed(mg_connection* conn, const mg_request_info* info, const HttpResponse& response,
                  const std::string& what, bool head) {
  const bool chunked = !info->http_version || std::string_view(info->http_version) != "1.0";
  const bool gzip = acceptsGzip(mg_get_header(conn, "Accept-Encoding"));
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%sVary: Accept-Encoding\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            response.status, mg_get_response_code_text(conn, response.status),
            response.contentType.c_str(), gzip ? "Content-Encoding: gzip\r\n" : "",
            chunked ? "Transfer-Encoding: chunked\r\n" : "");
  if (head) return;
  try {
    ResponseStream body(
        [conn](std::string_view bytes) {
          return mg_write(conn, bytes.data(), bytes.size()) == static_cast<int>(bytes.size());
        },
        chunked, gzip);
    response.stream([&body](std::string_view bytes) { return body.write(bytes); });
    body.finish();
  } catch (const std::exception& e) {
    reportInternalError(what, e.what());  // the body stays unfinished: the client sees it
  } catch (...) {
    reportInternalError(what, "unknown exception");
  }
  malloc_trim(0);
}

}  // namespace

// One civetweb handler for every path: civetweb matches handlers by prefix, so exact routing and
// authentication happen here, in one place, before any route runs.
class HttpServer::Dispatcher : public CivetHandler {
 public:
  explicit Dispatcher(const HttpServer& server) : server_(server) {}
  bool handleGet(CivetServer*, mg_connection* conn) override { return serve(conn, "GET"); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return serve(conn, "HEAD"); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return serve(conn, "POST"); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return serve(conn, "POST"); }

 private:
  bool serve(mg_connection* conn, const char* method) {
    const mg_request_info* info = mg_get_request_info(conn);
    const bool head = std::string_view(method) == "HEAD";
    if (head) method = "GET";
    Request request;
    request.method = method;
    request.path = info->local_uri ? info->local_uri : "/";
    request.query = info->query_string ? info->query_string : "";
    const char* authorization = mg_get_header(conn, "Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization && std::string_view(authorization).starts_with(kBearer) &&
        server_.acceptsBearer(request.path)) {
      if (!server_.bearerAllows(std::string_view(authorization).substr(kBearer.size()))) {
        send(conn, {401, "application/json",
                    R"({"status":"error","errorType":"unauthorized","error":"the bearer token is not the agent's api.token_file"})"
                    "\n"},
             "WWW-Authenticate: Bearer realm=\"envprobe\"\r\n", head);
        return true;
      }
      request.bearerVerified = true;
    } else if (server_.auth_ && !server_.auth_->allows(authorization)) {
      send(conn, {401, "text/plain; charset=utf-8", "Unauthorized\n"},
           "WWW-Authenticate: Basic realm=\"envprobe\", charset=\"UTF-8\"\r\n", head);
      return true;
    }
    const bool post = std::string_view(method) == "POST";
    if (post && !readBody(conn, info, request.body)) {
      send(conn, {413, "text/plain; charset=utf-8",
                  "request body larger than " + std::to_string(kMaxRequestBody) + " bytes\n"});
      return true;
    }
    const HttpResponse response = server_.dispatch(request);
    if (response.stream) {
      sendStreamed(conn, info, response, request.method + " " + request.path, head);
      return true;
    }
    send(conn, response,
         response.status != 405 ? "" : post ? "Allow: GET, HEAD\r\n" : "Allow: POST, PUT\r\n",
         head);
    return true;
  }

  // At most kMaxRequestBody bytes; false when the client says or sends more.
  static bool readBody(mg_connection* conn, const mg_request_info* info, std::string& body) {
    if (info->content_length > static_cast<long long>(kMaxRequestBody)) return false;
    char buffer[8192];
    for (;;) {
      const int n = mg_read(conn, buffer, sizeof buffer);
      if (n <= 0) return true;
      if (body.size() + static_cast<std::size_t>(n) > kMaxRequestBody) return false;
      body.append(buffer, static_cast<std::size_t>(n));
    }
  }

  const HttpServer& server_;
};

HttpServer::HttpServer(const std::string& listen,
                       std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                       HttpServerOptions options) {
  if (!options.web.basicAuthUsers.empty())
    auth_ = std::make_unique<BasicAuth>(options.web.basicAuthUsers);
  dispatcher_ = std::make_unique<Dispatcher>(*this);
  const std::vector<std::string> civetOptions = {
      // With TLS, civetweb serves plain HTTP on an ephemeral loopback port behind the TLS front
      // end (its own TLS needs symbols OpenSSL 3 no longer exports).
      "listening_ports", options.web.tls ? "127.0.0.1:0" : civetListeningPorts(listen),
      "num_threads", std::to_string(options.numThreads),
      // Whole-request budget for reading the request line and headers: an idle or byte-by-byte
      // client gives its thread back after this.
      "request_timeout_ms", std::to_string(options.requestTimeoutMs),
      // One request per connection, so a scraper never parks a thread between scrapes.
      "enable_keep_alive", "no",
      // Bound how long closing a connection to a client that does not read may take.
      "linger_timeout_ms", "1000",
  };
  try {
    server_ = std::make_unique<CivetServer>(civetOptions);
  } catch (const CivetException& e) {
    const auto reason = bindFailure(listen);
    throw std::runtime_error("cannot listen on " + listen + ": " +
                             (reason ? *reason : std::string(e.what())));
  }
  handle("/metrics", [collectables = std::move(collectables)](const Request&) {
    HttpResponse response{200, "text/plain; version=0.0.4; charset=utf-8", ""};
    response.stream = [collectables](const HttpResponse::BodyWriter& write) {
      TextWriter out(write);
      writeExposition(collectables, out);
    };
    return response;
  });
  handle("/-/healthy", [](const Request&) { return HttpResponse{200, "text/plain", "OK\n"}; });
  server_->addHandler("/", dispatcher_.get());
  if (options.web.tls) {
    TlsFrontOptions front;
    front.limits.requestHeadTimeout = std::chrono::milliseconds(options.requestTimeoutMs);
    tls_ = std::make_unique<TlsFront>(listen, *options.web.tls, civetPort(*server_), front);
  }
}

HttpServer::~HttpServer() {
  tls_.reset();  // no new requests reach civetweb
  if (server_) server_->close();
}

void HttpServer::handle(const std::string& path, Handler handler) {
  std::unique_lock lock(routesMutex_);
  routes_[path].get = std::move(handler);
}

void HttpServer::handlePost(const std::string& path, Handler handler) {
  std::unique_lock lock(routesMutex_);
  routes_[path].post = std::move(handler);
}

HttpResponse HttpServer::dispatch(const Request& request) const {
  Handler handler;
  {
    std::shared_lock lock(routesMutex_);
    const auto it = routes_.find(request.path);
    if (it == routes_.end()) return {404, "text/plain; charset=utf-8", "not found\n"};
    handler = request.method == "POST" ? it->second.post : it->second.get;
    if (!handler) {
      if (request.method == "POST")
        return {405, "text/plain; charset=utf-8", "Only GET requests allowed\n"};
      return {405, "text/plain; charset=utf-8", "Only POST or PUT requests allowed\n"};
    }
  }
  // The catch-log-continue boundary of every handler: an exception answers 500, never kills.
  try {
    return handler(request);
  } catch (const std::exception& e) {
    reportInternalError(request.method + " " + request.path, e.what());
  } catch (...) {
    reportInternalError(request.method + " " + request.path, "unknown exception");
  }
  return {500, "text/plain; charset=utf-8", "internal error; see the agent's log\n"};
}

void HttpServer::acceptBearer(const std::string& path) {
  std::unique_lock lock(routesMutex_);
  routes_[path].bearer = true;
}

void HttpServer::setBearerCheck(std::function<bool(std::string_view)> check) {
  std::unique_lock lock(routesMutex_);
  bearerCheck_ = std::move(check);
}

bool HttpServer::acceptsBearer(const std::string& path) const {
  std::shared_lock lock(routesMutex_);
  const auto it = routes_.find(path);
  return it != routes_.end() && it->second.bearer;
}

bool HttpServer::bearerAllows(std::string_view token) const {
  std::function<bool(std::string_view)> check;
  {
    std::shared_lock lock(routesMutex_);
    check = bearerCheck_;
  }
  return check && check(token);
}

int HttpServer::port() const {
  return tls_ ? tls_->port() : civetPort(*server_);
}

}  // namespace envprobe
