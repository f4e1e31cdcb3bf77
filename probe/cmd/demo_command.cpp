#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "probe/engine/agent.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/cmd/demo_site.hpp"
#include "probe/base/duration.hpp"
#include "probe/web/status_page.hpp"
#include "probe/base/text_table.hpp"

namespace envprobe {

namespace {

// The demo's catalog: one service whose internal name the site serves and whose public name it
// was never told about, both pinned to the site on loopback.
std::string demoConfig(int sitePort) {
  const std::string backend = "127.0.0.1:" + std::to_string(sitePort);
  return "environment: demo\n"
         "defaults: { interval: 2s, timeout: 1s }\n"
         "scheduler: { jitter: 0.1 }\n"
         "environments: { demo: { tier: prod } }\n"
         "services:\n"
         "  - name: shop\n"
         "    hostnames:\n"
         "      internal: [\"shop.{env}.internal\"]\n"
         "      public: [shop.example.com]\n"
         "    backends: { demo: [\"" + backend + "\"] }\n"
         "    checks:\n"
         "      - name: home\n"
         "        http:\n"
         "          scheme: http\n"
         "          path: /\n"
         "          expect: { status: [200-299], body_contains: [\"<title>Shop\"], "
         "max_duration: 500ms }\n"
         "      - name: version\n"
         "        http:\n"
         "          scheme: http\n"
         "          path: /version\n"
         "          version: { json: version }\n"
         "          expect: { status: [200], json: { status: ok }, "
         "identity: { json: environment } }\n";
}

void printState(std::ostream& out, Agent& agent, int round) {
  TextTable table({"STATE", "SERVICE", "HOSTNAME", "VISIBILITY", "CHECK", "HTTP", "REASON",
                   "DETAIL"});
  for (const auto& s : sortForOnCall(agent.probeMetrics()->snapshot())) {
    table.addRow({s.success ? "UP" : "DOWN", s.service, s.hostname, s.visibility, s.check,
                  s.statusCode ? std::to_string(s.statusCode) : "-",
                  s.success ? "-" : toString(s.reason), s.success ? "" : s.detail});
  }
  out << "\n-- probe results, round " << round << " --\n";
  table.print(out);
  out.flush();
}

// The periodic table: the pending timer owns the printer (no cycle, freed with the loop).
struct DemoPrinter {
  std::ostream& out;
  Agent& agent;
  EventLoop& loop;
  int round;
};

void schedulePrint(std::shared_ptr<DemoPrinter> printer, EventLoop::TimePoint at) {
  printer->loop.addTimer(at, [printer, at] {
    printState(printer->out, printer->agent, ++printer->round);
    schedulePrint(printer, at + std::chrono::seconds(3));
  });
}

}  // namespace

int runDemoCommand(const CommandLine& cl, std::ostream& out) {
  Duration stopAfter(0);
  if (!cl.demoDuration.empty()) {
    auto d = parseDuration(cl.demoDuration);
    if (!d) {
      std::cerr << "envprobe: error: --demo.duration: invalid duration \"" << cl.demoDuration
                << "\"\n";
      return 2;
    }
    stopAfter = *d;
  }
  std::unique_ptr<DemoSite> site;
  try {
    site = std::make_unique<DemoSite>("shop.demo.internal", "demo");
  } catch (const std::exception& e) {
    std::cerr << "envprobe: error: " << e.what() << "\n";
    return 1;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("envprobe-demo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = (dir / "demo.yaml").string();
  std::ofstream(file) << demoConfig(site->port());
  auto config = loadAgentConfig(file, std::cerr);
  std::filesystem::remove_all(dir);
  if (!config) return 1;

  const std::string listen = !cl.listenAddress.empty()
                                 ? cl.listenAddress
                                 : "127.0.0.1:" + std::to_string(pickFreeLoopbackPort());
  out << "envprobe demo: a site on 127.0.0.1:" << site->port()
      << " serves shop.demo.internal and answers every other Host with 400 \"Invalid "
         "Hostname\".\n"
      << "The catalog lists both of the shop's names, internal shop.demo.internal and public "
         "shop.example.com,\nso the agent probes both. No network needed; Ctrl-C stops.\n";
  ServeOptions options;
  options.listen = listen;
  options.stopAfter = stopAfter;  // the demo's config file is gone: no reload
  options.onStarted = [&](int port, Agent& agent, EventLoop& loop) {
    out << "metrics:     http://127.0.0.1:" << port << "/metrics\n"
        << "status page: http://127.0.0.1:" << port << "/\n";
    out.flush();
    schedulePrint(std::make_shared<DemoPrinter>(DemoPrinter{out, agent, loop, 0}),
                  loop.now() + std::chrono::milliseconds(2500));
  };
  return serveAgent(std::move(*config), options);
}

}  // namespace envprobe
