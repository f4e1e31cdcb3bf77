#pragma once
// The agent's HTTP endpoint (civetweb): /metrics, the status page, a JSON API and health.
// Handlers run on civetweb's threads and only read locked snapshots.
#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

class CivetServer;

namespace envprobe {

struct HttpResponse {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class HttpServer {
 public:
  struct Request {
    std::string path;
    std::string query;
  };
  using Handler = std::function<HttpResponse(const Request& request)>;

  // listen: ":9470", "127.0.0.1:9470", "[::1]:9470". Throws std::runtime_error when it cannot bind.
  // /metrics serves the collectables' families.
  HttpServer(const std::string& listen,
             std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
  ~HttpServer();

  // GET on `path`; civetweb also routes paths below it here, so a handler checks request.path.
  void handle(const std::string& path, Handler handler);
  // The bound port (useful with port 0).
  int port() const;

 private:
  class Route;
  std::unique_ptr<CivetServer> server_;
  std::vector<std::unique_ptr<Route>> routes_;
};

// "envprobe.local:9470" style listen address -> civetweb's listening_ports syntax.
std::string civetListeningPorts(const std::string& listen);

}  // namespace envprobe
