// The reloader on a real event loop: loads off the loop, applies on it, answers every caller,
// and with file checks loads only when a watched file (agent file, include, secret file) changed.
#include "probe/cmd/config_reloader.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "probe/cmd/agent_commands.hpp"
#include "tests/unit/test_files.hpp"

using namespace envprobe;
using envprobe::testing::TempDir;

namespace {

const std::string kCatalog = R"(environments:
  at: {tier: nonprod}
services:
  - name: shop
    hostnames: {internal: ["shop.at.local"], public: []}
    checks:
      - name: home
        http: {scheme: http, bearer_token_file: token}
)";

struct ReloadRig {
  TempDir dir;
  std::string file;
  EventLoop loop;
  std::unique_ptr<ConfigReloader> reloader;
  std::vector<ReloadCandidate> applied;
  std::vector<std::thread::id> applyThreads;

  ReloadRig() {
    dir.write("token", "s3cret\n");
    dir.write("catalog.yaml", kCatalog);
    file = dir.write("agent.yaml", "environment: at\ninclude: [catalog.yaml]\n");
    AgentFile loaded = loadAgentFile(file);
    REQUIRE(loaded.config);
    reloader = std::make_unique<ConfigReloader>(
        loop, *loaded.config, [this](ReloadCandidate& candidate, ReloadTrigger) {
          applyThreads.push_back(std::this_thread::get_id());
          applied.push_back(std::move(candidate));
          const bool ok = applied.back().config != nullptr;
          return ReloadOutcome{ok, false, ok ? "ok\n" : "invalid\n"};
        });
  }
  // Asks for a reload and runs the loop until it is answered.
  ReloadOutcome reload(ReloadTrigger trigger) {
    ReloadOutcome outcome;
    loop.post([&] {
      reloader->request(trigger, [&](const ReloadOutcome& o) {
        outcome = o;
        loop.stop();
      });
    });
    loop.run();
    return outcome;
  }
};

}  // namespace

TEST_CASE("reloader: loads off the loop, applies on it", "[reload]") {
  ReloadRig rig;
  const ReloadOutcome outcome = rig.reload(ReloadTrigger::Signal);
  CHECK(outcome.ok);
  REQUIRE(rig.applied.size() == 1);
  CHECK(rig.applyThreads[0] == std::this_thread::get_id());  // the loop's thread
  REQUIRE(rig.applied[0].config);
  CHECK(rig.applied[0].targets.size() == 1);
}

TEST_CASE("reloader: an invalid file reaches apply with its diagnostics", "[reload]") {
  ReloadRig rig;
  rig.dir.write("catalog.yaml", kCatalog + "  - name: [\n");
  const ReloadOutcome outcome = rig.reload(ReloadTrigger::Api);
  CHECK_FALSE(outcome.ok);
  REQUIRE(rig.applied.size() == 1);
  CHECK_FALSE(rig.applied[0].config);
  CHECK(rig.applied[0].diagnostics.hasErrors());
  CHECK(rig.applied[0].diagnostics.items()[0].where.file.find("catalog.yaml") !=
        std::string::npos);
}

TEST_CASE("reloader: file checks load only when a watched file changed", "[reload]") {
  ReloadRig rig;
  CHECK(rig.reload(ReloadTrigger::FileChange).unchanged);
  CHECK(rig.applied.empty());
  SECTION("the include changes") {
    rig.dir.write("catalog.yaml", kCatalog + "# a comment\n");
  }
  SECTION("the secret file changes") {
    rig.dir.write("token", "rotated\n");
  }
  const ReloadOutcome outcome = rig.reload(ReloadTrigger::FileChange);
  CHECK_FALSE(outcome.unchanged);
  CHECK(rig.applied.size() == 1);
  // Applied: the next check compares with what was loaded.
  CHECK(rig.reload(ReloadTrigger::FileChange).unchanged);
}

TEST_CASE("reloader: a file check sees a new file matching an include pattern", "[reload]") {
  TempDir dir;
  dir.write("conf.d/a.yaml", "services: []\n");
  const std::string pattern = (dir.path() / "conf.d" / "*.yaml").string();
  const WatchSet watch{{}, {pattern}};
  const std::string before = configFingerprint(watch);
  dir.write("conf.d/b.yaml", "services: []\n");
  CHECK(configFingerprint(watch) != before);
}

TEST_CASE("reloader: a file check does not retry content that already failed", "[reload]") {
  ReloadRig rig;
  rig.dir.write("catalog.yaml", kCatalog + "  - name: [\n");
  CHECK_FALSE(rig.reload(ReloadTrigger::FileChange).ok);
  CHECK(rig.applied.size() == 1);
  CHECK(rig.reload(ReloadTrigger::FileChange).unchanged);  // the same broken content
  CHECK(rig.applied.size() == 1);
  CHECK_FALSE(rig.reload(ReloadTrigger::Signal).ok);  // a signal always tries
  CHECK(rig.applied.size() == 2);
  rig.dir.write("catalog.yaml", kCatalog + "# fixed\n");
  CHECK(rig.reload(ReloadTrigger::FileChange).ok);
  CHECK(rig.applied.size() == 3);
}

TEST_CASE("reloader: after stop every caller is answered, nothing loads", "[reload]") {
  ReloadRig rig;
  rig.reloader->stop();
  const ReloadOutcome outcome = rig.reload(ReloadTrigger::Api);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.message.find("shutting down") != std::string::npos);
  CHECK(rig.applied.empty());
}

TEST_CASE("reloader: the watched files are the agent file, includes and secret files", "[reload]") {
  ReloadRig rig;
  AgentFile loaded = loadAgentFile(rig.file);
  REQUIRE(loaded.config);
  const WatchSet watch = watchedFiles(*loaded.config);
  REQUIRE(watch.files.size() == 3);
  CHECK(watch.files[0] == rig.file);
  CHECK(watch.patterns.size() == 1);
  CHECK(configFingerprint(watch) == configFingerprint(watch));
  CHECK(configFingerprint({{rig.file + ".missing"}, {}}) != configFingerprint({{rig.file}, {}}));
}
