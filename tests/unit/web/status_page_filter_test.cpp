// The status page filter: parsed from a hostile query string, applied server-side.
#include <catch2/catch.hpp>
#include <string>

#include "probe/web/status_page.hpp"

using envprobe::parseStatusFilter;

TEST_CASE("status filter: the three keys, percent-decoded", "[web][status_page]") {
  const auto f = parseStatusFilter("service=shop%20front&hostname=www.%65xample+com&state=DOWN");
  CHECK(f.service == "shop front");
  CHECK(f.hostname == "www.example com");
  CHECK(f.state == "down");
  CHECK(parseStatusFilter("?state=up").state == "up");
  CHECK(parseStatusFilter("state=up&state=down").state == "down");  // the last one counts
  CHECK(parseStatusFilter("hostname=+shop+").hostname == "shop");
}

TEST_CASE("status filter: garbage never throws and yields nothing harmful", "[web][status_page]") {
  for (const std::string& query :
       {std::string(), std::string("&&&"), std::string("="), std::string("=&=="), std::string("%"),
        std::string("service"), std::string("state=sideways"), std::string("state=%"),
        std::string("x=1&y"), std::string("\xFF\xFE=\0", 4)}) {
    envprobe::StatusFilter f;
    REQUIRE_NOTHROW(f = parseStatusFilter(query));
    CHECK(f.service.empty());
    CHECK(f.hostname.empty());
    CHECK(f.state.empty());
  }
  // Broken escapes stay as they are; decoded bytes stay bytes (escaped when shown).
  CHECK(parseStatusFilter("hostname=%zz%4").hostname == "%zz%4");
  CHECK(parseStatusFilter("hostname=%00%ff%3Cb").hostname == std::string("\0\xff<b", 4));
  // Bounded: a huge value is cut, a huge query read only so far.
  std::string hugeQuery("hostname=");
  hugeQuery.append(100000, 'a');
  const auto huge = parseStatusFilter(hugeQuery);
  CHECK(huge.hostname.size() == 256);
  std::string longQuery(5000, 'x');
  longQuery.append("&state=down");
  CHECK(parseStatusFilter(longQuery).state.empty());
}

TEST_CASE("status filter: applied server-side, with the count shown", "[web][status_page]") {
  envprobe::StatusPageModel m;
  m.env = "at";
  m.nowUnix = 1'700'000'000;
  for (const auto& [service, hostname, up] :
       {std::tuple{"shop", "shop.at.test", false}, std::tuple{"shop", "WWW.at.test", true},
        std::tuple{"api", "api.at.test", true}}) {
    envprobe::StatusRow r;
    r.state.service = service;
    r.state.hostname = hostname;
    r.state.success = up;
    r.state.targetId = hostname;
    m.rows.push_back(r);
  }
  m.recentChanges.push_back({m.nowUnix, "api", "api.at.test", "home", "server", "a", "b"});
  auto rowsShown = [](const std::string& page) {
    std::size_t n = 0;
    for (auto at = page.find("<tr class=\"row "); at != std::string::npos;
         at = page.find("<tr class=\"row ", at + 1))
      ++n;
    return n;
  };
  SECTION("state=down") {
    m.filter = parseStatusFilter("state=down");
    const auto page = envprobe::renderStatusPage(m);
    CHECK(rowsShown(page) == 1);
    CHECK(page.find("data-hostname=\"shop.at.test\"") != std::string::npos);
    CHECK(page.find("Showing <b id=\"shown\">1</b> of 3 targets") != std::string::npos);
    CHECK(page.find("<option value=\"down\" selected>down</option>") != std::string::npos);
    // The banner still counts every target.
    CHECK(page.find("1 failing <span class=\"of\">of 3 targets") != std::string::npos);
  }
  SECTION("hostname as a substring, any case; service exactly") {
    m.filter = parseStatusFilter("hostname=www");
    CHECK(rowsShown(envprobe::renderStatusPage(m)) == 1);
    m.filter = parseStatusFilter("hostname=at.test&service=shop");
    const auto page = envprobe::renderStatusPage(m);
    CHECK(rowsShown(page) == 2);
    CHECK(page.find("<option value=\"shop\" selected>shop</option>") != std::string::npos);
    CHECK(page.find("No changes seen.") != std::string::npos);  // api's change is filtered out
    m.filter = parseStatusFilter("service=sho");
    CHECK(rowsShown(envprobe::renderStatusPage(m)) == 0);
  }
  SECTION("nothing matches") {
    m.filter = parseStatusFilter("hostname=%3Cnothing%3E");
    const auto page = envprobe::renderStatusPage(m);
    CHECK(page.find("No target matches the filter.") != std::string::npos);
    CHECK(page.find("value=\"&lt;nothing&gt;\"") != std::string::npos);
    CHECK(page.find("Showing <b id=\"shown\">0</b> of 3 targets") != std::string::npos);
  }
}
