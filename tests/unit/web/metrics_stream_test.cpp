// /metrics streamed: chunked, gzip when accepted, HEAD, basic auth; and the response stream on
// its own (chunk framing, gzip round trip).
#include <prometheus/registry.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "probe/metrics/agent_metrics.hpp"
#include "probe/metrics/probe_metrics.hpp"
#include "probe/metrics/text_exposition.hpp"
#include "probe/web/http_server.hpp"
#include "probe/web/response_stream.hpp"
#include "tests/unit/metrics/exposition_compare.hpp"
#include "tests/unit/metrics/synthetic_series.hpp"
#include "tests/unit/web/http_client.hpp"

using envprobe::acceptsGzip;
using envprobe::HttpResponse;
using envprobe::HttpServer;
using envprobe::ProbeMetrics;
using envprobe::ResponseStream;
using envprobe::testing::dechunk;
using envprobe::testing::expositionDifference;
using envprobe::testing::gunzip;
using envprobe::testing::request;

namespace {

// Deterministic, poorly compressible text of n bytes.
std::string noise(std::size_t n) {
  std::string out(n, ' ');
  std::uint32_t x = 12345;
  for (auto& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>('!' + (x >> 24) % 90);
  }
  return out;
}

struct Fleet {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<ProbeMetrics> probes = std::make_shared<ProbeMetrics>();
  envprobe::AgentMetrics agent{*registry, "at"};
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables() const {
    return {registry, probes};
  }
};

}  // namespace

TEST_CASE("response stream: Accept-Encoding", "[web][stream]") {
  CHECK(acceptsGzip("gzip"));
  CHECK(acceptsGzip("gzip, deflate, br"));
  CHECK(acceptsGzip("deflate, GZIP;q=0.5"));
  CHECK(acceptsGzip("identity, x-gzip"));
  CHECK(acceptsGzip("*"));
  CHECK_FALSE(acceptsGzip(nullptr));
  CHECK_FALSE(acceptsGzip(""));
  CHECK_FALSE(acceptsGzip("identity"));
  CHECK_FALSE(acceptsGzip("gzip;q=0"));
  CHECK_FALSE(acceptsGzip("gzip; q=0.0, *"));
  CHECK_FALSE(acceptsGzip("gzipper"));
}

TEST_CASE("response stream: chunks and gzip round trip", "[web][stream]") {
  const std::string body = noise(300000) + std::string(200000, 'a');
  for (const bool gzip : {false, true}) {
    for (const bool chunked : {false, true}) {
      CAPTURE(gzip, chunked);
      std::string wire;
      int sinkCalls = 0;
      ResponseStream stream(
          [&](std::string_view b) {
            ++sinkCalls;
            wire.append(b);
            return true;
          },
          chunked, gzip);
      for (std::size_t at = 0; at < body.size(); at += 10000)
        REQUIRE(stream.write(std::string_view(body).substr(at, 10000)));
      REQUIRE(stream.finish());
      const std::string payload = chunked ? dechunk(wire) : wire;
      CHECK((gzip ? gunzip(payload) : payload) == body);
      CHECK(stream.bodyBytesIn() == body.size());
      CHECK(stream.bytesSent() == payload.size());
      if (gzip) CHECK(payload.size() < body.size());
    }
  }
}

TEST_CASE("response stream: a client that is gone stops it", "[web][stream]") {
  int calls = 0;
  ResponseStream stream(
      [&](std::string_view) {
        ++calls;
        return false;
      },
      true, false);
  CHECK_FALSE(stream.write("hello"));
  CHECK_FALSE(stream.write("again"));
  CHECK_FALSE(stream.finish());
  CHECK(stream.failed());
  CHECK(calls == 1);
}

TEST_CASE("http server: a streamed body larger than the buffer arrives chunked", "[web][stream]") {
  HttpServer server("127.0.0.1:0", {});
  const std::string body = noise(1000000);
  server.handle("/big", [&](const HttpServer::Request&) {
    HttpResponse r{200, "text/plain", ""};
    r.stream = [&](const HttpResponse::BodyWriter& write) {
      for (std::size_t at = 0; at < body.size(); at += 65536)
        if (!write(std::string_view(body).substr(at, 65536))) return;
    };
    return r;
  });
  const auto reply = request(server.port(), "/big");
  CHECK(reply.status == 200);
  CHECK(reply.header("transfer-encoding") == "chunked");
  CHECK(reply.header("content-length").empty());
  CHECK(reply.complete);
  CHECK(reply.body == body);
  // Gzip when asked.
  const auto zipped = request(server.port(), "/big", "Accept-Encoding: gzip\r\n");
  CHECK(zipped.header("content-encoding") == "gzip");
  CHECK(gunzip(zipped.body) == body);
  // An HTTP/1.0 client: no chunks; the body ends with the connection.
  const auto old = request(server.port(), "/big", "", "GET", "1.0");
  CHECK(old.header("transfer-encoding").empty());
  CHECK(old.body == body);
  // HEAD: the headers only.
  const auto head = request(server.port(), "/big", "", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.rawBody.empty());
}

TEST_CASE("http server: a stream that throws leaves the body unfinished", "[web][stream]") {
  HttpServer server("127.0.0.1:0", {});
  server.handle("/broken", [](const HttpServer::Request&) {
    HttpResponse r{200, "text/plain", ""};
    r.stream = [](const HttpResponse::BodyWriter& write) {
      write("partial");
      throw std::runtime_error("broken on purpose");
    };
    return r;
  });
  const auto reply = request(server.port(), "/broken");
  CHECK(reply.status == 200);
  CHECK_FALSE(reply.complete);  // no last chunk: the client sees the truncation
  CHECK_THAT(reply.rawBody, Catch::Matchers::StartsWith("7\r\npartial\r\n"));
  CHECK(request(server.port(), "/-/healthy").status == 200);
}

TEST_CASE("http server: /metrics streams the same exposition, plain and gzip", "[web][stream]") {
  Fleet fleet;
  envprobe::testing::fillSynthetic(*fleet.probes, 2000);
  fleet.agent.observeProbe("svc1", "home", "internal", 0.25, true);
  HttpServer server("127.0.0.1:0", fleet.collectables());
  const std::string reference = envprobe::serializeCollected(fleet.collectables());
  REQUIRE(reference.size() > 4 * 65536);

  const auto plain = request(server.port(), "/metrics");
  CHECK(plain.status == 200);
  CHECK(plain.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(plain.header("transfer-encoding") == "chunked");
  CHECK(plain.header("content-encoding").empty());
  CHECK(expositionDifference(reference, plain.body) == "");

  const auto zipped = request(server.port(), "/metrics", "Accept-Encoding: gzip\r\n");
  CHECK(zipped.header("content-encoding") == "gzip");
  CHECK(zipped.body.size() < reference.size() / 5);
  CHECK(gunzip(zipped.body) == plain.body);

  const auto head = request(server.port(), "/metrics", "", "HEAD");
  CHECK(head.status == 200);
  CHECK(head.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(head.rawBody.empty());
}

TEST_CASE("http server: basic auth still guards the streamed /metrics", "[web][stream]") {
  Fleet fleet;
  envprobe::HttpServerOptions options;
  // bcrypt of "s3cret" at cost 4; "cHJvbWV0aGV1czpzM2NyZXQ=" is base64 of "prometheus:s3cret".
  options.web.basicAuthUsers["prometheus"] =
      "$2b$04$T7.ox6bJECJvUrmtHJZGROiFcC/WuuldgN3RkgAFHzxd.8Sj7QZ3G";
  HttpServer server("127.0.0.1:0", fleet.collectables(), options);
  CHECK(request(server.port(), "/metrics").status == 401);
  CHECK(request(server.port(), "/metrics", "", "HEAD").rawBody.empty());
  const auto ok = request(server.port(), "/metrics",
                          "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n");
  CHECK(ok.status == 200);
  CHECK(expositionDifference(envprobe::serializeCollected(fleet.collectables()), ok.body) == "");
}
