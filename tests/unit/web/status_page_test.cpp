#include "probe/web/status_page.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/base/utf8.hpp"

using envprobe::SeriesState;

namespace {

SeriesState hostileSeries() {
  SeriesState s;
  s.env = "at";
  s.service = "cafe";
  s.check = "server";
  s.hostname = "cafe.at.test";
  s.visibility = "internal";
  s.success = false;
  s.reason = envprobe::Reason::Header;
  s.detail = "header Server: \"caf\xE9/1.0\" does not match \"nginx.*\"";
  s.statusCode = 200;
  s.serverHeader = std::string("caf\xE9/1.0 \xFF\0<script>", 19);
  s.lastProbeUnix = 1'700'000'000;
  return s;
}

}  // namespace

TEST_CASE("targets JSON: invalid UTF-8 from a target becomes U+FFFD, never an exception",
          "[web]") {
  std::string body;
  REQUIRE_NOTHROW(body = envprobe::renderTargetsJson({hostileSeries()}));
  CHECK(envprobe::isValidUtf8(body));
  const auto j = nlohmann::json::parse(body);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["detail"] == "header Server: \"caf\xEF\xBF\xBD/1.0\" does not match \"nginx.*\"");
  CHECK(j[0]["server"] == std::string("caf\xEF\xBF\xBD/1.0 \xEF\xBF\xBD\0<script>", 23));
  CHECK(j[0]["status_code"] == 200);
  CHECK(j[0]["success"] == false);
}

TEST_CASE("status page: target bytes are valid UTF-8, escaped, without control characters",
          "[web]") {
  SeriesState s = hostileSeries();
  s.detail = std::string("caf\xE9 <b>\"x\"</b> 'y' \x1b[31m \0 end", 31);
  const std::string page = envprobe::renderStatusPage("at", {s}, 1'700'000'005);
  CHECK(envprobe::isValidUtf8(page));
  CHECK(page.find("<b>") == std::string::npos);
  CHECK(page.find("caf\xEF\xBF\xBD &lt;b&gt;&quot;x&quot;&lt;/b&gt; &#39;y&#39; "
                  "\xEF\xBF\xBD[31m \xEF\xBF\xBD end") != std::string::npos);
  CHECK(page.find('\0') == std::string::npos);
  CHECK(page.find("5s ago") != std::string::npos);
}

TEST_CASE("status page: html escaping keeps valid text as it is", "[web]") {
  CHECK(envprobe::htmlEscape("caf\xC3\xA9 & \xE2\x82\xAC\t") == "caf\xC3\xA9 &amp; \xE2\x82\xAC\t");
}
