// What `run` would refuse, the loader refuses first, with file:line:column: addresses, header
// bytes, include targets that are not files, weekday names, value ranges and costly regexes.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "probe/config/yaml/config_loader.hpp"
#include "tests/unit/config/load_result_support.hpp"
#include "tests/unit/test_files.hpp"

using envprobe::LoadResult;
using envprobe::loadConfig;
using envprobe::testing::TempDir;
using envprobe::testing::formatted;
using envprobe::testing::onlyError;
using envprobe::testing::requireClean;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// An agent file of one service whose agent keys are `top` (from line 2 on) and whose one check
// is `check` (indented as a list item's keys, from the line after "- name: home").
std::string agentFile(const TempDir& dir, const std::string& top, const std::string& check = "",
                      const std::string& service = "") {
  return dir.write("agent.yaml", "environment: at\n" + top + R"(environments:
  at: { tier: nonprod }
services:
  - name: web
    hostnames:
      internal: ["web.{env}.local"]
      public: []
)" + service + "    checks:\n      - name: home\n" +
                                     (check.empty() ? "        http: { path: / }\n" : check));
}

}  // namespace

TEST_CASE("config validation: dns.servers are IP addresses with an optional port", "[config]") {
  TempDir dir;
  SECTION("accepted") {
    const std::string server =
        GENERATE(as<std::string>{}, "10.0.0.2", "10.0.0.2:53", "[::1]:53", "::1", "fd00::2",
                 "[fd00::2]:5353", "127.0.0.1:65535");
    INFO(server);
    requireClean(loadConfig(agentFile(dir, "dns: { servers: [\"" + server + "\"] }\n")));
  }
  SECTION("refused, with where and why") {
    const auto [server, why] = GENERATE(table<std::string, std::string>({
        {"dns.example.com:53", "is a hostname, not an IP address"},
        {"dns.example.com", "is a hostname, not an IP address"},
        {"10.0.0.2:99999", "port \"99999\" is not a number from 1 to 65535"},
        {"10.0.0.2:0", "port \"0\" is not a number from 1 to 65535"},
        {"10.0.0.2:", "port \"\" is not a number"},
        {"10.0.0.2:53x", "port \"53x\" is not a number"},
        {"[::1]", "write an IPv6 server without brackets, or with a port"},
        {"[10.0.0.2]:53", "\"10.0.0.2\" is not an IP address"},
        {"10.0.0.256", "\"10.0.0.256\" is not an IP address"},
        {"fe80::1%lo", "\"fe80::1%lo\" is not an IP address"},
        {"", "\"\" is not an IP address"},
    }));
    INFO(server);
    const auto file = agentFile(dir, "dns: { servers: [\"10.0.0.1\", \"" + server + "\"] }\n");
    const std::string error = onlyError(loadConfig(file));
    CHECK_THAT(error, StartsWith(file + ":2:30: error: dns.servers[1]: "));
    CHECK_THAT(error, Contains(why));
  }
}

TEST_CASE("config validation: listen is [host]:port, host:port or :port", "[config]") {
  TempDir dir;
  SECTION("accepted") {
    const std::string listen = GENERATE(as<std::string>{}, ":9470", ":0", "127.0.0.1:9470",
                                        "0.0.0.0:65535", "localhost:9470", "probe.internal.:80");
    INFO(listen);
    requireClean(loadConfig(agentFile(dir, "listen: \"" + listen + "\"\n")));
  }
  SECTION("refused, with where and why") {
    const auto [listen, why] = GENERATE(table<std::string, std::string>({
        {":99999", "port \"99999\" is not a number from 0 to 65535"},
        {":-1", "port \"-1\" is not a number"},
        {"127.0.0.1:", "port \"\" is not a number"},
        {"9470", "has no port"},
        {"127.0.0.1", "has no port"},
        {"::1:9470", "put an IPv6 address in brackets"},
        {"[not-v6]:9470", "in brackets is not an IPv6 address"},
        {"my host:9470", "is neither an IP address nor a hostname"},
        {"-bad-:9470", "is neither an IP address nor a hostname"},
        {"[::1]:9470", "IPv6 listen addresses are not supported by the web server"},
        {"", "has no port"},
    }));
    INFO(listen);
    const auto file = agentFile(dir, "listen: \"" + listen + "\"\n");
    const std::string error = onlyError(loadConfig(file));
    CHECK_THAT(error, StartsWith(file + ":2:9: error: listen: "));
    CHECK_THAT(error, Contains(why));
  }
}

TEST_CASE("config validation: request header names are tokens, values one line", "[config]") {
  TempDir dir;
  const auto [headers, where, why] = GENERATE(table<std::string, std::string, std::string>({
      {R"({ X-Token: "abc\r\nHost: evil.example" })", "12:31: error: "
       "services[0].checks[0].http.headers.X-Token", "control character CR at byte 4"},
      {R"({ X-Token: "abc\nX-Evil: 1" })", "12:31", "control character LF at byte 4"},
      {R"({ X-Token: "abc\0def" })", "12:31", "control character NUL at byte 4"},
      {R"({ X-Token: "abc\x1bdef" })", "12:31", "control character 0x1B at byte 4"},
      {R"({ X-Token: "abc\x7f" })", "12:31", "control character DEL at byte 4"},
      {R"({ "X-Evil\r\nHost": v })", "12:22: error: services[0].checks[0].http.headers."
       "X-Evil\\r\\nHost: invalid header name: CR at byte 7", "RFC 7230 token"},
      {R"({ "X Token": v })", "12:22", "invalid header name:   at byte 2"},
      {R"({ "X:Token": v })", "12:22", "invalid header name: : at byte 2"},
      {R"({ "": v })", "12:22", "a header name must not be empty"},
  }));
  INFO(headers);
  const auto file = agentFile(dir, "", "        http:\n          headers: " + headers + "\n");
  const std::string error = onlyError(loadConfig(file));
  CHECK_THAT(error, StartsWith(file + ":" + where));
  CHECK_THAT(error, Contains(why));
}

TEST_CASE("config validation: tabs and non-ASCII bytes in header values are fine", "[config]") {
  TempDir dir;
  const auto r = loadConfig(agentFile(
      dir, "", "        http:\n          headers: { X-A: \"a\\tb\", X-B: \"caf\xc3\xa9\" }\n"));
  requireClean(r);
  const auto& headers = r.config.catalog.services.at(0).checks.at(0).http->headers;
  REQUIRE(headers.size() == 2);
  CHECK(headers[0].second == "a\tb");
}

TEST_CASE("config validation: expected header names are tokens too", "[config]") {
  TempDir dir;
  const auto file = agentFile(dir, "", "        http:\n          expect:\n"
                                       "            headers: { \"Content Type\": \"text/.*\" }\n");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(file + ":13:24: error: services[0].checks[0].http.expect.headers."
                               "Content Type: invalid header name:   at byte 8"));
}

TEST_CASE("config validation: a path has no spaces or control characters", "[config]") {
  TempDir dir;
  const std::string path = GENERATE(as<std::string>{}, "/a b", "/a\\r\\nb", "/a\\tb");
  const auto file = agentFile(dir, "", "        http: { path: \"" + path + "\" }\n");
  CHECK_THAT(onlyError(loadConfig(file)),
             StartsWith(file + ":11:23: error: services[0].checks[0].http.path: a path has no "
                               "spaces or control characters"));
}

TEST_CASE("config validation: backends are host or host:port, each listed once", "[config]") {
  TempDir dir;
  auto withBackends = [&](const std::string& list) {
    return agentFile(dir, "", "", "    backends: { at: [" + list + "] }\n");
  };
  SECTION("accepted") {
    const auto r = loadConfig(withBackends(
        R"("10.0.1.5:443", "10.0.1.6", "[fd00::5]:443", "[fd00::6]", "blue.internal:8443")"));
    requireClean(r);
    CHECK(r.config.catalog.services.at(0).backends.at("at").size() == 5);
  }
  SECTION("refused, with where and why") {
    const auto [backend, why] = GENERATE(table<std::string, std::string>({
        {"10.0.1.5:99999", "port \"99999\" is not a number from 1 to 65535"},
        {"10.0.1.5:0", "port \"0\" is not a number from 1 to 65535"},
        {"10.0.1.5:", "port \"\" is not a number"},
        {"fd00::5", "put an IPv6 address in brackets"},
        {"fd00::5:443", "put an IPv6 address in brackets"},
        {"[10.0.1.5]:443", "in brackets is not an IPv6 address"},
        {"[fd00::5]443", "is not an address"},
        {"[fd00::5", "is not an address"},
        {"10.0.1.256:443", "is neither an IP address nor a hostname"},
        {"blue internal:443", "is neither an IP address nor a hostname"},
        {"https://10.0.1.5:443", "write the address without a scheme"},
        {"10.0.1.5:443:1", "is not an address"},
        {"", "is neither an IP address nor a hostname"},
    }));
    INFO(backend);
    const auto file = withBackends("\"10.0.1.4:443\", \"" + backend + "\"");
    const std::string error = onlyError(loadConfig(file));
    CHECK_THAT(error, StartsWith(file + ":9:38: error: services[0].backends.at[1]: "));
    CHECK_THAT(error, Contains(why));
  }
  SECTION("the same address twice, in any spelling, is refused") {
    const auto [first, second] = GENERATE(table<std::string, std::string>({
        {"10.0.1.5:443", "10.0.1.5:443"},
        {"10.0.1.5:443", "10.0.1.5:0443"},
        {"[fd00::5]:443", "[FD00:0::5]:443"},
        {"blue.internal:443", "Blue.Internal.:443"},
    }));
    const auto file = withBackends("\"" + first + "\", \"" + second + "\"");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":9:" + std::to_string(26 + first.size()) +
              ": error: services[0].backends.at[1]: backend \"" + second +
              "\" is listed twice for environment \"at\" (also at services[0].backends.at[0], "
              "line 9)");
  }
}

TEST_CASE("config validation: an include must name regular files", "[config]") {
  TempDir dir;
  dir.write("catalog/services.yaml", "services: []\n");
  SECTION("a directory") {
    const auto file = dir.write("agent.yaml", "include: [catalog]\n");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":1:11: error: include[0]: \"catalog\" matches " + dir.path().string() +
              "/catalog, which is a directory, not a regular file");
  }
  SECTION("a character device") {
    const auto file = dir.write("agent.yaml", "include: [/dev/zero]\n");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":1:11: error: include[0]: \"/dev/zero\" matches /dev/zero, which is a "
                 "character device, not a regular file");
  }
  SECTION("a fifo") {
    const std::string fifo = (dir.path() / "pipe.yaml").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto file = dir.write("agent.yaml", "include: [\"*.yaml\"]\n");
    // agent.yaml matches its own glob and is skipped; the fifo is refused, not opened.
    CHECK(onlyError(loadConfig(file)) ==
          file + ":1:11: error: include[0]: \"*.yaml\" matches " + fifo +
              ", which is a fifo, not a regular file");
  }
  SECTION("a glob matching a directory and a file") {
    const auto file = dir.write("agent.yaml", "include: [\"cata*\", \"catalog/*\"]\n");
    const auto r = loadConfig(file);
    CHECK_THAT(onlyError(r), Contains("which is a directory, not a regular file"));
    CHECK(r.config.includes.size() == 1);
  }
  SECTION("the agent file itself") {
    CHECK(onlyError(loadConfig("/dev/zero")) ==
          "/dev/zero: error: cannot read file: it is a character device, not a regular file");
    CHECK(onlyError(loadConfig(dir.path().string())) ==
          dir.path().string() + ": error: cannot read file: it is a directory, not a regular file");
  }
}

TEST_CASE("config validation: weekdays must be spelled out, window names unique", "[config]") {
  TempDir dir;
  auto withWindows = [&](const std::string& windows) {
    return agentFile(dir, "maintenance:\n  windows:\n" + windows);
  };
  const std::string patching = "    - name: patching\n      match: { service: web }\n"
                               "      start: 2026-11-22T01:00:00Z\n      duration: 2h\n";
  SECTION("names and abbreviations, any case") {
    const auto r = loadConfig(
        withWindows(patching + "      weekly: [sun, Monday, TUE, wednesday, thu, FRIDAY, Sat]\n"));
    requireClean(r);
    CHECK(r.config.maintenance.at(0).weekdays == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  }
  SECTION("anything else is refused") {
    const std::string day =
        GENERATE(as<std::string>{}, "monkey", "mo", "tues", "thurs", "sundays", "satur", "7", "");
    const auto file = withWindows(patching + "      weekly: [mon, \"" + day + "\"]\n");
    CHECK(onlyError(loadConfig(file)) ==
          file + ":8:21: error: maintenance.windows[0].weekly[1]: expected a weekday: mon, tue, "
                 "wed, thu, fri, sat, sun or the full name; got \"" + day + "\"");
  }
  SECTION("two windows with one name") {
    const auto file = withWindows(patching + patching);
    CHECK(onlyError(loadConfig(file)) ==
          file + ":8:13: error: maintenance.windows[1].name: duplicate maintenance window name "
                 "\"patching\" (first at line 4)");
  }
}
