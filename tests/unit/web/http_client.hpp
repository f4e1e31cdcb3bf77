#pragma once
// A small blocking HTTP client for the web tests: one request on loopback, the whole response
// read until the server closes, split into status, headers and body; chunked bodies decoded and
// gzip bodies inflated (zlib).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <map>
#include <stdexcept>
#include <string>

namespace envprobe::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercase
  std::string rawBody;                         // as received (chunk framing included)
  std::string body;                            // de-chunked
  bool complete = true;                        // false: a chunked body without its last chunk
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline std::string rawExchange(int port, const std::string& request) {
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
  if (::send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  std::string response;
  std::string buf(1 << 16, '\0');
  for (ssize_t n; (n = ::recv(fd, buf.data(), buf.size(), 0)) > 0;) response.append(buf.data(), n);
  ::close(fd);
  return response;
}

// Decodes a chunked body; throws when the framing is wrong or the last chunk is missing.
inline std::string dechunk(const std::string& raw) {
  std::string out;
  std::size_t at = 0;
  for (;;) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) throw std::runtime_error("chunked: no size line");
    const std::size_t size = std::stoul(raw.substr(at, eol - at), nullptr, 16);
    at = eol + 2;
    if (size == 0) {
      if (raw.compare(at, 2, "\r\n") != 0) throw std::runtime_error("chunked: bad end");
      return out;
    }
    if (at + size + 2 > raw.size() || raw.compare(at + size, 2, "\r\n") != 0)
      throw std::runtime_error("chunked: truncated chunk");
    out.append(raw, at, size);
    at += size + 2;
  }
}

inline std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip stream did not end");
  return out;
}

inline HttpReply request(int port, const std::string& path, const std::string& headers = "",
                         const std::string& method = "GET", const std::string& version = "1.1") {
  const std::string raw = rawExchange(
      port, method + " " + path + " HTTP/" + version + "\r\nHost: t\r\n" + headers + "\r\n");
  HttpReply reply;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) throw std::runtime_error("no end of headers");
  reply.status = std::stoi(raw.substr(9, 3));
  std::size_t at = raw.find("\r\n") + 2;
  while (at < end) {
    const auto eol = raw.find("\r\n", at);
    const std::string line = raw.substr(at, eol - at);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    at = eol + 2;
  }
  reply.rawBody = raw.substr(end + 4);
  reply.body = reply.rawBody;
  if (method != "HEAD" && reply.header("transfer-encoding") == "chunked") {
    try {
      reply.body = dechunk(reply.rawBody);
    } catch (const std::exception&) {
      reply.complete = false;
    }
  }
  return reply;
}

}  // namespace envprobe::testing
