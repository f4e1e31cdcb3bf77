#include "probe/alerting/delivery/alertmanager_client.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "probe/base/utf8.hpp"

using envprobe::BatchAction;
using envprobe::decideBatchAction;
using envprobe::RefusalBisect;

TEST_CASE("alertmanager client: invalid UTF-8 in labels and annotations still makes valid JSON",
          "[alerting]") {
  static const char kSummary[] = "nul \0 and \xED\xA0\x80 surrogate";
  envprobe::OutgoingAlert alert;
  alert.labels = {{"alertname", "ProbeFailed"}, {"hostname", "caf\xE9.test"}, {"bad\xFF", "x"}};
  alert.annotations = {{"description", "header Server: \"caf\xE9/1.0\" does not match"},
                       {"summary", std::string(kSummary, sizeof kSummary - 1)}};
  alert.generatorUrl = "http://agent/?service=caf\xE9";
  std::string body;
  REQUIRE_NOTHROW(body = envprobe::alertsToJson({alert, alert}));
  CHECK(envprobe::isValidUtf8(body));
  const auto j = nlohmann::json::parse(body);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["labels"]["hostname"] == "caf\xEF\xBF\xBD.test");
  CHECK(j[0]["labels"]["bad\xEF\xBF\xBD"] == "x");
  CHECK(j[0]["annotations"]["description"] ==
        "header Server: \"caf\xEF\xBF\xBD/1.0\" does not match");
  CHECK(j[0]["generatorURL"] == "http://agent/?service=caf\xEF\xBF\xBD");
}

TEST_CASE("alertmanager client: what an answer means for the batch", "[alerting]") {
  CHECK(decideBatchAction(true, 200, 10) == BatchAction::Delivered);
  CHECK(decideBatchAction(true, 204, 1) == BatchAction::Delivered);
  // Transient: the transfer failed, the server failed, or it asks to slow down.
  CHECK(decideBatchAction(false, 0, 10) == BatchAction::Retry);
  CHECK(decideBatchAction(false, 200, 10) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 500, 10) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 503, 1) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 429, 10) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 408, 1) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 302, 1) == BatchAction::Retry);
  // The endpoint or access is wrong, not the alerts: keep them until that is fixed.
  CHECK(decideBatchAction(true, 401, 10) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 403, 1) == BatchAction::Retry);
  CHECK(decideBatchAction(true, 404, 10) == BatchAction::Retry);
  // Refused: find the refused alerts, drop only them.
  CHECK(decideBatchAction(true, 400, 500) == BatchAction::Split);
  CHECK(decideBatchAction(true, 422, 2) == BatchAction::Split);
  CHECK(decideBatchAction(true, 400, 1) == BatchAction::Drop);
  CHECK(decideBatchAction(true, 413, 1) == BatchAction::Drop);
}

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("a" + std::to_string(i));
  return out;
}

// Plays the client's part against an Alertmanager that refuses any batch holding a bad alert:
// the first batch is `all`, refused parts are bisected, single refused alerts dropped.
struct Outcome {
  std::vector<std::string> delivered, dropped;
  int requests = 0;
};

Outcome deliver(const std::vector<std::string>& all, const std::set<std::string>& bad) {
  Outcome out;
  RefusalBisect bisect;
  std::vector<std::string> batch = all;
  for (;;) {
    ++out.requests;
    const bool refused = std::any_of(batch.begin(), batch.end(),
                                     [&](const std::string& fp) { return bad.count(fp) > 0; });
    switch (decideBatchAction(true, refused ? 400 : 200, batch.size())) {
      case BatchAction::Delivered:
        out.delivered.insert(out.delivered.end(), batch.begin(), batch.end());
        break;
      case BatchAction::Drop: out.dropped.push_back(batch.front()); break;
      case BatchAction::Split: bisect.split(batch); break;
      case BatchAction::Retry: FAIL("no transient errors here"); break;
    }
    if (!bisect.active()) break;
    batch = bisect.takeNext();
  }
  return out;
}

}  // namespace

TEST_CASE("alertmanager client: one refused alert in 500 drops that alert only", "[alerting]") {
  const auto all = names(500);
  const Outcome o = deliver(all, {"a137"});
  CHECK(o.dropped == std::vector<std::string>{"a137"});
  CHECK(o.delivered.size() == 499);
  CHECK(std::find(o.delivered.begin(), o.delivered.end(), "a137") == o.delivered.end());
  // Bisection: about two requests per halving, not one per alert.
  CHECK(o.requests <= 2 * 9 + 1);
  // Order is kept: the alerts go out oldest first.
  CHECK(std::is_sorted(o.delivered.begin(), o.delivered.end(), [&](const auto& a, const auto& b) {
    return std::find(all.begin(), all.end(), a) < std::find(all.begin(), all.end(), b);
  }));
}

TEST_CASE("alertmanager client: several refused alerts are each dropped, the rest delivered",
          "[alerting]") {
  const Outcome o = deliver(names(37), {"a0", "a5", "a6", "a36"});
  CHECK(o.dropped == std::vector<std::string>{"a0", "a5", "a6", "a36"});
  CHECK(o.delivered.size() == 33);
  const Outcome none = deliver(names(20), {});
  CHECK(none.requests == 1);
  CHECK(none.delivered.size() == 20);
  const Outcome allBad = deliver(names(8), {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"});
  CHECK(allBad.dropped.size() == 8);
  CHECK(allBad.requests == 15);  // a full binary tree over 8 leaves, the worst case
}

TEST_CASE("alertmanager client: a part that failed transiently is tried again first, whole",
          "[alerting]") {
  RefusalBisect bisect;
  CHECK_FALSE(bisect.active());
  bisect.split({"a", "b", "c"});
  REQUIRE(bisect.active());
  auto first = bisect.takeNext();
  CHECK(first == std::vector<std::string>{"a"});
  bisect.retryLater(first);
  CHECK(bisect.takeNext() == std::vector<std::string>{"a"});
  CHECK(bisect.takeNext() == std::vector<std::string>{"b", "c"});
  CHECK_FALSE(bisect.active());
  bisect.split({"x"});  // a single alert has no halves: nothing to try
  CHECK_FALSE(bisect.active());
}
