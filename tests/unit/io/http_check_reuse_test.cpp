// A reused check (easy handle) carries nothing of the request it served before: its header and
// connect-to lists follow the new request by value, a changed TLS setup resets the handle, and a
// request after a cross-origin redirect sends no custom header. No network: prepare() only.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "probe/io/http_check.hpp"

using namespace envprobe;

namespace {

std::vector<std::string> lines(const curl_slist* list) {
  std::vector<std::string> out;
  for (; list; list = list->next) out.emplace_back(list->data);
  return out;
}

HttpRequest requestFor(const HttpCheckSpec& spec, std::string host, std::string address) {
  HttpRequest r;
  r.spec = &spec;
  r.hostname = std::move(host);
  r.port = 80;
  r.url = "http://" + r.hostname + "/";
  r.connectAddress = std::move(address);
  r.connectPort = 8080;
  return r;
}

}  // namespace

TEST_CASE("http check: a reused handle takes the new target's headers and connect-to rule", "[io]") {
  HttpCheckSpec a;
  a.scheme = "http";
  a.headers = {{"X-One", "1"}, {"X-Two", "2"}};
  a.secrets.headers = {{"Authorization", "Bearer a"}};
  HttpCheckSpec b;
  b.scheme = "http";
  b.method = "POST";
  b.body = "{}";
  HttpCheckSpec c = a;
  c.headers = {{"X-One", "11"}, {"X-Two", "2"}};  // a reload changed one value

  HttpCheck check(requestFor(a, "a.example", "10.0.0.1"));
  CHECK(lines(check.headerList()) ==
        std::vector<std::string>{"X-One: 1", "X-Two: 2", "Authorization: Bearer a"});
  CHECK(lines(check.connectToList()) == std::vector<std::string>{"a.example:80:10.0.0.1:8080"});

  check.prepare(requestFor(b, "b.example", "2001:db8::1"));
  CHECK(check.headerList() == nullptr);
  CHECK(lines(check.connectToList()) == std::vector<std::string>{"b.example:80:[2001:db8::1]:8080"});

  check.prepare(requestFor(c, "a.example", ""));
  CHECK(lines(check.headerList()) ==
        std::vector<std::string>{"X-One: 11", "X-Two: 2", "Authorization: Bearer a"});
  CHECK(check.connectToList() == nullptr);

  // The same request again keeps the lists it built (no rebuild, same nodes).
  const curl_slist* headers = check.headerList();
  check.prepare(requestFor(c, "a.example", ""));
  CHECK(check.headerList() == headers);

  // After a redirect to another origin the custom headers go.
  HttpRequest redirected = requestFor(c, "elsewhere.example", "10.0.0.9");
  redirected.sendCustomHeaders = false;
  check.prepare(redirected);
  CHECK(check.headerList() == nullptr);
  CHECK(lines(check.connectToList()) == std::vector<std::string>{"elsewhere.example:80:10.0.0.9:8080"});
  // Back and forth between targets: each time exactly the current rule.
  for (const char* address : {"10.0.0.1", "10.0.0.2", "10.0.0.1"}) {
    check.prepare(requestFor(a, "a.example", address));
    CHECK(lines(check.connectToList()) ==
          std::vector<std::string>{std::string("a.example:80:") + address + ":8080"});
  }
  CHECK(check.resets() == 0);  // the TLS setup never changed
}

TEST_CASE("http check: a changed TLS setup resets the reused handle to curl's defaults", "[io]") {
  HttpCheckSpec plain;
  HttpCheckSpec insecure;
  insecure.tls.insecureSkipVerify = true;
  HttpCheckSpec ownCa;
  ownCa.tls.caFile = "/nonexistent/ca.pem";
  ownCa.headers = {{"X-Env", "prod"}};

  HttpCheck check(requestFor(plain, "a.example", "10.0.0.1"));
  check.prepare(requestFor(plain, "b.example", "10.0.0.2"));
  CHECK(check.resets() == 0);
  check.prepare(requestFor(insecure, "a.example", "10.0.0.1"));
  CHECK(check.resets() == 1);
  check.prepare(requestFor(ownCa, "a.example", "10.0.0.1"));
  CHECK(check.resets() == 2);
  // A reset forgets the lists: they are built again for the handle.
  CHECK(lines(check.headerList()) == std::vector<std::string>{"X-Env: prod"});
  CHECK(lines(check.connectToList()) == std::vector<std::string>{"a.example:80:10.0.0.1:8080"});
  check.prepare(requestFor(plain, "a.example", "10.0.0.1"));
  CHECK(check.resets() == 3);
  CHECK(check.headerList() == nullptr);
}
