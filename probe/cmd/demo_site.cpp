#include "probe/cmd/demo_site.hpp"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace envprobe {

int pickFreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  if (port == 0) throw std::runtime_error("no free port on 127.0.0.1");
  return port;
}

class DemoSite::Handler : public CivetHandler {
 public:
  Handler(std::string host, std::string env) : host_(std::move(host)), env_(std::move(env)) {}
  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    std::string host = mg_get_header(conn, "Host") ? mg_get_header(conn, "Host") : "";
    if (auto colon = host.find(':'); colon != std::string::npos) host.resize(colon);
    std::string status = "200 OK", type = "text/html; charset=utf-8", body;
    if (host != host_) {
      status = "400 Bad Request";
      type = "text/plain";
      body = "Invalid Hostname\n";
    } else if (std::string(info->local_uri) == "/version") {
      type = "application/json";
      body = "{\"version\":\"1.4.2\",\"environment\":\"" + env_ + "\",\"status\":\"ok\"}\n";
    } else {
      body = "<!doctype html><html><head><title>Shop</title></head><body>welcome</body></html>\n";
    }
    mg_printf(conn,
              "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nServer: demo-nginx/1.25\r\n"
              "Connection: close\r\n\r\n%s",
              status.c_str(), type.c_str(), body.size(), body.c_str());
    return true;
  }

 private:
  std::string host_;
  std::string env_;
};

DemoSite::DemoSite(std::string boundHostname, const std::string& environment)
    : handler_(std::make_unique<Handler>(std::move(boundHostname), environment)) {
  port_ = pickFreeLoopbackPort();
  const std::vector<std::string> options = {
      "listening_ports", "127.0.0.1:" + std::to_string(port_), "num_threads", "2"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    throw std::runtime_error(std::string("demo site: ") + e.what());
  }
  server_->addHandler("/", handler_.get());
}

DemoSite::~DemoSite() {
  if (server_) server_->close();
}

}  // namespace envprobe
