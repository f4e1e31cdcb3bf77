#include "probe/web/http_server.hpp"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <stdexcept>

namespace envprobe {

std::string civetListeningPorts(const std::string& listen) {
  if (!listen.empty() && listen.front() == ':') return listen.substr(1);
  return listen;
}

class HttpServer::Route : public CivetHandler {
 public:
  explicit Route(Handler handler) : handler_(std::move(handler)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    const HttpResponse response =
        handler_({info->local_uri ? info->local_uri : "/", info->query_string ? info->query_string : ""});
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              response.status, mg_get_response_code_text(conn, response.status),
              response.contentType.c_str(), response.body.size());
    mg_write(conn, response.body.data(), response.body.size());
    return true;
  }

 private:
  Handler handler_;
};

HttpServer::HttpServer(const std::string& listen,
                       std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  const std::vector<std::string> options = {"listening_ports", civetListeningPorts(listen),
                                            "num_threads", "4", "enable_keep_alive", "no"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw std::runtime_error("cannot listen on " + listen + ": " + e.what());
  }
  handle("/metrics", [collectables = std::move(collectables)](const Request&) {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& c : collectables) {
      auto more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                        prometheus::TextSerializer().Serialize(families)};
  });
  handle("/-/healthy", [](const Request&) { return HttpResponse{200, "text/plain", "OK\n"}; });
}

HttpServer::~HttpServer() {
  if (server_) server_->close();
}

void HttpServer::handle(const std::string& path, Handler handler) {
  routes_.push_back(std::make_unique<Route>(std::move(handler)));
  server_->addHandler(path, routes_.back().get());
}

int HttpServer::port() const {
  const auto ports = server_->getListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace envprobe
