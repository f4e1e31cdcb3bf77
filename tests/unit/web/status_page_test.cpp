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

envprobe::StatusPageModel modelOf(std::vector<SeriesState> series, std::int64_t now) {
  envprobe::StatusPageModel model;
  model.env = "at";
  model.nowUnix = now;
  model.rows = envprobe::statusRowsFromSnapshot(std::move(series));
  return model;
}

}  // namespace

TEST_CASE("targets JSON: invalid UTF-8 from a target becomes U+FFFD, never an exception", "[web]") {
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
          "[web][status_page]") {
  SeriesState s = hostileSeries();
  s.detail = std::string("caf\xE9 <b>\"x\"</b> 'y' \x1b[31m \0 end", 31);
  const std::string page = envprobe::renderStatusPage(modelOf({s}, 1'700'000'005));
  CHECK(envprobe::isValidUtf8(page));
  CHECK(page.find("<b>\"x\"") == std::string::npos);
  CHECK(page.find("caf\xEF\xBF\xBD &lt;b&gt;&quot;x&quot;&lt;/b&gt; &#39;y&#39; "
                  "\xEF\xBF\xBD[31m \xEF\xBF\xBD end") != std::string::npos);
  CHECK(page.find('\0') == std::string::npos);
  CHECK(page.find("probed 5s ago") != std::string::npos);
}

TEST_CASE("status page: html escaping keeps valid text as it is", "[web][status_page]") {
  CHECK(envprobe::htmlEscape("caf\xC3\xA9 & \xE2\x82\xAC\t") == "caf\xC3\xA9 &amp; \xE2\x82\xAC\t");
  CHECK(envprobe::htmlEscape("") == "");
  CHECK(envprobe::htmlEscape("<a href='x'>") == "&lt;a href=&#39;x&#39;&gt;");
}

TEST_CASE("status page: long text is cut on a character boundary", "[web][status_page]") {
  std::string out;
  envprobe::appendEscapedBounded(out,
                                 "ab\xC3\xA9"
                                 "cd",
                                 3);  // the cut falls inside é
  CHECK(out == "ab\xE2\x80\xA6");
  out.clear();
  envprobe::appendEscapedBounded(out, "abc", 3);
  CHECK(out == "abc");
}

TEST_CASE("status page: durations as an on-call reader reads them", "[web][status_page]") {
  auto duration = [](std::int64_t seconds) {
    std::string out;
    envprobe::appendDuration(out, seconds);
    return out;
  };
  CHECK(duration(-5) == "0s");
  CHECK(duration(45) == "45s");
  CHECK(duration(60) == "1m");
  CHECK(duration(725) == "12m 5s");
  CHECK(duration(3 * 3600 + 12 * 60 + 9) == "3h 12m");
  CHECK(duration(2 * 86400 + 3 * 3600 + 59) == "2d 3h");
  CHECK(duration(86400) == "1d");
}
