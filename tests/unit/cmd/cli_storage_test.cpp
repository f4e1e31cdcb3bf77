// --storage.path and --storage.retention: defaults, durations, and usage errors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "probe/cmd/cli.hpp"

using envprobe::CommandLine;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "envprobe");
  return envprobe::parseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("cli: storage flags default to ./data and 14 days", "[cli][history]") {
  const auto cl = parse({"run", "--config.file=a.yaml"});
  CHECK(cl.errors.empty());
  CHECK(cl.storagePath == "./data");
  CHECK(cl.storageRetentionValue == std::chrono::hours(24 * 14));
}

TEST_CASE("cli: storage flags take a directory and a duration", "[cli][history]") {
  const auto cl = parse({"run", "--storage.path", "/var/lib/envprobe", "--storage.retention=36h"});
  CHECK(cl.errors.empty());
  CHECK(cl.storagePath == "/var/lib/envprobe");
  CHECK(cl.storageRetentionValue == std::chrono::hours(36));
}

TEST_CASE("cli: a bad retention or an empty path is a usage error", "[cli][history]") {
  for (const char* bad : {"--storage.retention=soon", "--storage.retention=0", "--storage.path="}) {
    const auto cl = parse({"run", bad});
    INFO(bad);
    REQUIRE(cl.errors.size() == 1);
    CHECK(cl.errors[0].find("--storage.") != std::string::npos);
  }
}

TEST_CASE("cli: run --help names the storage flags", "[cli][history]") {
  const auto text = envprobe::commandUsageText("run");
  REQUIRE(text);
  CHECK(text->find("--storage.path=DIR") != std::string::npos);
  CHECK(text->find("--storage.retention=DURATION") != std::string::npos);
}
