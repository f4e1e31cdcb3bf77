#include <malloc.h>

#include <iostream>

#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/check_config_command.hpp"
#include "probe/cmd/cli.hpp"
#include "probe/base/logging.hpp"
#include "probe/io/signal_watcher.hpp"

using namespace envprobe;

int main(int argc, char** argv) {
  // Buffers of 1 MiB and more (a scrape's label sets, a catalog being parsed, a status page) are
  // mapped and unmapped on their own. Left to itself, glibc raises this threshold after the
  // first such buffer is freed, and later ones are carved from a serving thread's arena and stay
  // in the agent's RSS (measured: ~365 bytes per series more after every scrape).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  const CommandLine cl = parseCommandLine(argc, argv);
  if (!cl.errors.empty()) {
    for (const auto& e : cl.errors) std::cerr << "envprobe: error: " << e << "\n";
    const bool known = commandUsageText(cl.command).has_value() && cl.command != "help";
    std::cerr << "Try 'envprobe " << (known ? cl.command + " " : "") << "--help'.\n";
    return 2;
  }
  if (cl.command.empty()) {
    std::cerr << usageText() << "\nenvprobe: error: no command given\n";
    return 2;
  }
  if (cl.command == "help") {
    // parseCommandLine refused an unknown command, so the topic has a text.
    std::cout << (cl.args.empty() ? usageText() : commandUsageText(cl.args.front()).value_or(""));
    return 0;
  }
  if (cl.command == "version") {
    std::cout << "envprobe, version " << ENVPROBE_VERSION << "\n";
    return 0;
  }
  // Before any thread exists (the demo site's, civetweb's): the event loop reads these signals.
  if (cl.command == "run" || cl.command == "demo") blockTerminationSignals();
  setupLogging(cl.logLevel, cl.logFormat);
  if (cl.command == "check-config") return runCheckConfig(cl, std::cout, std::cerr);
  if (cl.command == "run") return runAgentCommand(cl);
  if (cl.command == "once") return runOnceCommand(cl, std::cout, std::cerr);
  if (cl.command == "demo") return runDemoCommand(cl, std::cout);
  if (cl.command == "deploy") return runDeployCommand(cl, std::cout, std::cerr);
  if (cl.command == "gate") return runGateCommand(cl, std::cout, std::cerr);
  std::cerr << "envprobe: error: unknown command \"" << cl.command << "\"\nTry 'envprobe --help'.\n";
  return 2;
}
