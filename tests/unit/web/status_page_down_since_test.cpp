// "Down since" on the status page and in /api/v1/targets: RFC 3339 while down, null while up.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "probe/web/status_page.hpp"

using envprobe::SeriesState;

TEST_CASE("status page: down since as RFC 3339, null while up", "[status_page][history]") {
  SeriesState down;
  down.service = "a";
  down.success = false;
  down.downSinceUnix = 1'700'000'000;
  SeriesState up;
  up.service = "b";
  up.success = true;
  const auto json = nlohmann::json::parse(envprobe::renderTargetsJson({down, up}));
  CHECK(json[0]["down_since"] == "2023-11-14T22:13:20Z");
  CHECK(json[1]["down_since"].is_null());
  envprobe::StatusPageModel model;
  model.env = "at";
  model.nowUnix = 1'700'000'000 + 3 * 3600 + 12 * 60 + 30;
  model.rows = envprobe::statusRowsFromSnapshot({down, up});
  const auto html = envprobe::renderStatusPage(model);
  CHECK(html.find("<th>Down since</th>") != std::string::npos);
  CHECK(html.find("<td class=\"down-since\">for 3h 12m <time datetime=\"2023-11-14T22:13:20Z\">"
                  "2023-11-14T22:13:20Z</time></td>") != std::string::npos);
  // The up row has an empty down-since cell.
  CHECK(html.find("<td class=\"down-since\"></td>") != std::string::npos);
}
