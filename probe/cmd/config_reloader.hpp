#pragma once
// Live reload of the agent file: SIGHUP, POST /-/reload and (opt-in) a periodic check of the
// config files all ask the reloader, on the loop. The file is read, validated, audited and its
// targets prepared (assertions compiled) on a worker thread, never on the loop; the result comes
// back to the loop, where `apply` swaps it in. One load at a time: a request made while a load
// runs is answered by the next load, which starts when this one is done (so it sees the file as
// it is after the request).
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe/base/diagnostics.hpp"
#include "probe/config/config_model.hpp"
#include "probe/io/event_loop.hpp"
#include "checks/probe_result.hpp"

namespace envprobe {

enum class ReloadTrigger { Signal, Api, FileChange };
const char* toString(ReloadTrigger trigger);

// What a config was read from: the agent file, its includes, the secret files it names, and the
// include patterns (a new file may match one).
struct WatchSet {
  std::vector<std::string> files;
  std::vector<std::string> patterns;
  bool operator==(const WatchSet&) const = default;
};

// An agent file loaded for a reload.
struct ReloadCandidate {
  std::shared_ptr<AgentConfig> config;  // null when the file is not usable; the applier may adjust it
  std::vector<std::shared_ptr<ProbeTarget>> targets;
  Diagnostics diagnostics;  // every error and warning, file:line:col
  WatchSet watch;           // what it was read from
  std::string fingerprint;  // of `watch`, as read
  std::string tried;        // of the running config's watched files, before loading
  double loadSeconds = 0;
  // What apply replaced (the old config); freed with the candidate, off the loop.
  std::shared_ptr<const void> retired;
};

struct ReloadOutcome {
  bool ok = false;
  bool unchanged = false;  // FileChange: the files did not change, nothing was loaded
  std::string message;     // one line per error on failure; a summary on success
};

// Loads, audits and prepares an agent file (any thread). The same checks as at start.
ReloadCandidate loadReloadCandidate(const std::string& file);
WatchSet watchedFiles(const AgentConfig& config);
// A digest of the files' contents (an unreadable file counts as such) and the patterns' matches.
std::string configFingerprint(const WatchSet& watch);

class ConfigReloader {
 public:
  using Apply = std::function<ReloadOutcome(ReloadCandidate& candidate, ReloadTrigger trigger)>;
  using Done = std::function<void(const ReloadOutcome&)>;

  // `running`: the config running now (its file is the one reloaded; its files are watched).
  ConfigReloader(EventLoop& loop, const AgentConfig& running, Apply apply);
  ~ConfigReloader();  // waits for a load in progress
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;

  // On the loop. `done` (optional) runs on the loop with the outcome.
  void request(ReloadTrigger trigger, Done done = nullptr);
  // Checks the files every `interval` and reloads when their content changed.
  void watchFiles(Duration interval);
  // No more loads; whoever waits is answered "shutting down". Part of the shutdown sequence.
  void stop();

 private:
  struct Waiter {
    ReloadTrigger trigger;
    Done done;
  };
  void startLoad();
  void finished(ReloadCandidate candidate, bool unchanged);
  void armWatch();

  EventLoop& loop_;
  std::string file_;
  WatchSet watch_;                 // of the config applied last
  std::string fingerprint_;        // of those files, when it was loaded
  std::string failedFingerprint_;  // of the running config's files when a reload failed
  EventLoop::TimePoint failedAt_{};
  static constexpr auto kRetryFailed = std::chrono::minutes(1);
  Apply apply_;
  std::thread worker_;
  std::thread disposer_;  // frees an applied candidate and what it replaced, off the loop
  bool busy_ = false;
  bool stopped_ = false;
  std::vector<Waiter> current_;  // answered by the load in progress
  std::vector<Waiter> next_;     // answered by the next load
  Duration watchInterval_{0};
  OwnedTimer watchTimer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace envprobe
