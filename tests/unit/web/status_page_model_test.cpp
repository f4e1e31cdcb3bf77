// The status page from a StatusPageModel: order, banner, history bar, availability,
// certificate, version, alert and maintenance state, changes, hostile bytes, an empty model.
#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include "probe/base/utf8.hpp"
#include "probe/web/status_page.hpp"
#include "probe/web/status_row_html.hpp"

using envprobe::StatusPageModel;
using envprobe::StatusRow;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

StatusRow row(const std::string& service, const std::string& hostname, const std::string& check,
              bool up) {
  StatusRow r;
  r.state.service = service;
  r.state.hostname = hostname;
  r.state.check = check;
  r.state.visibility = "public";
  r.state.targetId = service + "/" + check + "/" + hostname;
  r.state.success = up;
  r.state.reason = up ? envprobe::Reason::None : envprobe::Reason::HttpStatus;
  r.state.lastProbeUnix = kNow - 5;
  if (!up) r.state.downSinceUnix = kNow - 600;
  return r;
}

StatusPageModel model(std::vector<StatusRow> rows) {
  StatusPageModel m;
  m.env = "prod";
  m.nowUnix = kNow;
  m.rows = std::move(rows);
  return m;
}

// The data-hostname of each row, in page order.
std::vector<std::string> hostnames(const std::string& page) {
  static const std::regex re(
      "<tr class=\"row [^\"]*\" data-target=\"[^\"]*\" data-hostname=\"([^\"]*)\"");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), re); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

bool has(const std::string& page, const std::string& text) {
  return page.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("status page: failing services first, failing rows first within a service",
          "[web][status_page]") {
  const auto page = envprobe::renderStatusPage(model({
      row("alpha", "b.alpha", "home", true),
      row("alpha", "a.alpha", "home", true),
      row("gamma", "g.gamma", "home", false),
      row("beta", "a.beta", "home", true),
      row("beta", "z.beta", "home", false),
      row("beta", "a.beta", "api", true),
  }));
  CHECK(hostnames(page) ==
        std::vector<std::string>{"z.beta", "a.beta", "a.beta", "g.gamma", "a.alpha", "b.alpha"});
  // Within a hostname, by check.
  CHECK(page.find("data-target=\"beta/api/a.beta\"") <
        page.find("data-target=\"beta/home/a.beta\""));
  CHECK(has(page,
            "<tr class=\"group failing\"><th colspan=\"10\">beta <span class=\"n\">1 failing of 3 "
            "targets</span>"));
  CHECK(
      has(page, "<tr class=\"group\"><th colspan=\"10\">alpha <span class=\"n\">2 targets</span>"));
}

TEST_CASE("status page: the banner counts failing targets", "[web][status_page]") {
  SECTION("failing") {
    auto rows = std::vector<StatusRow>{row("a", "x", "c", false), row("a", "y", "c", true),
                                       row("b", "z", "c", false)};
    rows[0].alertState = "firing";
    rows[2].inMaintenance = true;
    const auto page = envprobe::renderStatusPage(model(rows));
    CHECK(has(page,
              "<div id=\"banner\" class=\"banner failing\">2 failing <span class=\"of\">of 3 "
              "targets in env <b>prod</b></span>"));
    CHECK(has(page, "1 alert firing &middot; 1 target in maintenance"));
    CHECK(has(page, "<title>2 failing &middot; envprobe prod</title>"));
    CHECK(has(page, "<span class=\"badge alert firing\">alert firing</span>"));
    CHECK(has(page, "<tr class=\"row down maint\""));
    CHECK(has(page, "<span class=\"badge maint\">maintenance</span>"));
  }
  SECTION("all up") {
    const auto page = envprobe::renderStatusPage(model({row("a", "x", "c", true)}));
    CHECK(has(page,
              "<div id=\"banner\" class=\"banner ok\">All 1 target up in env <b>prod</b></div>"));
  }
}

TEST_CASE("status page: an empty model renders a complete page", "[web][status_page]") {
  const auto page = envprobe::renderStatusPage(StatusPageModel{});
  CHECK(has(page, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
  CHECK(has(page, "class=\"banner empty\">No targets in env <b></b>"));
  CHECK(has(page, "This agent probes no target."));
  CHECK(has(page, "No changes seen."));
  CHECK(!has(page, "<table"));
  CHECK(page.size() > 100);
  CHECK(page.substr(page.size() - 8) == "</html>\n");
  // Nothing from elsewhere: no scripts, no external resources.
  CHECK(!has(page, "<script"));
  CHECK(!has(page, "src="));
  CHECK(!has(page, "stylesheet"));
  CHECK(has(page, "<link rel=\"icon\" href=\"data:image/svg+xml,"));
}

TEST_CASE("status page: the 24-hour bar, one span per bucket", "[web][status_page]") {
  auto r = row("a", "x", "c", true);
  r.bar24h = {1, 0, -1, 1, 7};
  auto page = envprobe::renderStatusPage(model({r, row("a", "y", "c", true)}));
  CHECK(has(page,
            "<span class=\"bar\" title=\"oldest first; 1 of 5 down\"><i class=u></i>"
            "<i class=d></i><i class=n></i><i class=u></i><i class=n></i></span>"));
  CHECK(has(page, "<span class=\"nohist\">no history</span>"));
}

TEST_CASE("status page: availability as percentages, unknown as a dash", "[web][status_page]") {
  auto r = row("a", "x", "c", true);
  r.availability24h = 0.99999;
  r.availability7d = 0.5;
  auto unknown = row("a", "y", "c", true);
  const auto page = envprobe::renderStatusPage(model({r, unknown}));
  CHECK(has(page, "<td class=\"avail a24\">99.99%</td><td class=\"avail a7d low\">50.00%</td>"));
  CHECK(has(page,
            "<td class=\"avail a24\">\xE2\x80\x94</td><td class=\"avail a7d\">\xE2\x80\x94</td>"));
  std::string out;
  envprobe::appendAvailability(out, 1.0);
  CHECK(out == "100%");
}

TEST_CASE("status page: certificate days left, highlighted under 14", "[web][status_page]") {
  auto soon = row("a", "soon", "c", true);
  soon.state.certExpiry = kNow + 10 * 86400 + 3600;
  auto later = row("a", "later", "c", true);
  later.state.tls.edit().lastChainExpiryUnix = kNow + 30 * 86400;  // no certExpiry: the TLS facts
  auto expired = row("a", "expired", "c", false);
  expired.state.certExpiry = kNow - 2 * 86400;
  const auto page = envprobe::renderStatusPage(model({soon, later, expired}));
  CHECK(has(page, "<td class=\"cert warn\" title=\"expires 2023-11-24T23:13:20Z\">10 d</td>"));
  CHECK(has(page, "<td class=\"cert\" title=\"expires 2023-12-14T22:13:20Z\">30 d</td>"));
  CHECK(has(page,
            "<td class=\"cert warn\" title=\"expires 2023-11-12T22:13:20Z\">expired 2 d ago</td>"));
  CHECK(!has(row("a", "x", "c", true).state.hostname, "cert"));
}

TEST_CASE("status page: a version other than the expected one stands out", "[web][status_page]") {
  auto differs = row("a", "x", "c", false);
  differs.state.version = "1.4.2";
  differs.expectedVersion = "1.5.0";
  auto same = row("a", "y", "c", true);
  same.state.version = "1.5.0";
  same.expectedVersion = "1.5.0";
  auto none = row("a", "z", "c", true);
  none.state.version = "2.0";
  const auto page = envprobe::renderStatusPage(model({differs, same, none}));
  CHECK(has(page,
            "<td class=\"version\"><span class=\"mismatch\">1.4.2 (expected 1.5.0)</span></td>"));
  CHECK(has(page, "<td class=\"version\">1.5.0</td>"));
  CHECK(has(page, "<td class=\"version\">2.0</td>"));
}

TEST_CASE("status page: the last change and recent changes, newest first", "[web][status_page]") {
  auto r = row("web", "w.example", "home", true);
  r.lastChange = envprobe::StatusChange{kNow - 300, "web",        "w.example", "home",
                                        "server",   "nginx/1.22", "nginx/1.24"};
  auto m = model({r});
  for (int i = 0; i < 60; ++i)
    m.recentChanges.push_back({kNow - 1000 + i, "web", "w.example", "home", "version",
                               "v" + std::to_string(i), "v" + std::to_string(i + 1)});
  const auto page = envprobe::renderStatusPage(m);
  CHECK(has(page,
            "<td class=\"change\"><span class=\"what\">server</span>: nginx/1.22 \xE2\x86\x92 "
            "nginx/1.24, 5m ago</td>"));
  const auto newest = page.find("v59 \xE2\x86\x92 v60");
  const auto older = page.find("v58 \xE2\x86\x92 v59");
  CHECK(newest != std::string::npos);
  CHECK(newest < older);
  // At most 50: v10 -> v11 is the oldest shown.
  CHECK(has(page, "v10 \xE2\x86\x92 v11"));
  CHECK(!has(page, "v9 \xE2\x86\x92 v10"));
}

TEST_CASE("status page: every byte from a target is escaped", "[web][status_page]") {
  const std::string evil = std::string("<script>alert(1)</script>\"'&\xFF\0\x1b", 31);
  auto r = row(evil, evil, evil, false);
  r.state.targetId = evil;
  r.state.visibility = evil;
  r.state.address = evil;
  r.state.detail = evil;
  r.state.version = evil;
  r.expectedVersion = evil;
  r.expectedVersion.push_back('x');
  r.alertState = evil;
  r.lastChange = envprobe::StatusChange{kNow, evil, evil, evil, evil, evil, evil};
  auto m = model({r});
  m.env = evil;
  m.recentChanges.push_back(*r.lastChange);
  m.filter.hostname = evil.substr(0, 10);
  m.filter.service = evil;
  const auto page = envprobe::renderStatusPage(m);
  CHECK(envprobe::isValidUtf8(page));
  CHECK(!has(page, "<script"));
  CHECK(!has(page, "\"'"));
  CHECK(page.find('\0') == std::string::npos);
  CHECK(page.find('\x1b') == std::string::npos);
  CHECK(has(
      page,
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"));
  CHECK(hostnames(page).size() == 1);
}
