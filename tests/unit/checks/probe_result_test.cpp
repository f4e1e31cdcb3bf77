// prepareTarget: the backend's host and port as the probe connects to them, and the URL it asks.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "checks/probe_result.hpp"

using envprobe::HttpCheckSpec;
using envprobe::prepareTarget;
using envprobe::Target;

namespace {

std::shared_ptr<envprobe::ProbeTarget> prepared(const std::string& backend,
                                                const std::string& secretQuery = "") {
  auto spec = std::make_shared<HttpCheckSpec>();
  spec->secrets.query = secretQuery;
  Target t;
  t.hostname = "shop.example.com";
  t.url = "http://shop.example.com/health";
  t.backend = backend;
  t.http = spec;
  return prepareTarget(std::move(t), nullptr);
}

}  // namespace

TEST_CASE("prepared target: the backend's host and port", "[probe_result]") {
  struct Case {
    std::string backend, host;
    int port;
  };
  for (const Case& c : {Case{"10.0.1.5:443", "10.0.1.5", 443}, Case{"[fd00::5]:8443", "fd00::5", 8443},
                        Case{"blue.internal:8080", "blue.internal", 8080},
                        Case{"10.0.1.5", "10.0.1.5", 0}, Case{"[::1]", "::1", 0},
                        Case{"", "", 0}}) {
    INFO(c.backend);
    const auto t = prepared(c.backend);
    CHECK(t->backendHost() == c.host);
    CHECK(t->backendPort == c.port);
  }
  // The view stays good when the target is copied.
  const auto original = prepared("[fd00::5]:8443");
  const envprobe::ProbeTarget copy = *original;
  CHECK(copy.backendHost() == "fd00::5");
}

TEST_CASE("prepared target: the URL asked carries the secret query, the one shown does not",
          "[probe_result]") {
  const auto plain = prepared("");
  CHECK(plain->requestUrl() == "http://shop.example.com/health");
  CHECK(&plain->requestUrl() == &plain->target.url);  // no copy
  const auto secret = prepared("", "token=s3cret");
  CHECK(secret->requestUrl() == "http://shop.example.com/health?token=s3cret");
  CHECK(secret->target.url == "http://shop.example.com/health");
}
