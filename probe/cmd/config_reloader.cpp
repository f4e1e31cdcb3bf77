#include "probe/cmd/config_reloader.hpp"

#include <glob.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "probe/base/internal_errors.hpp"
#include "probe/cmd/agent_commands.hpp"
#include "probe/engine/agent.hpp"

namespace envprobe {

const char* toString(ReloadTrigger trigger) {
  switch (trigger) {
    case ReloadTrigger::Signal: return "SIGHUP";
    case ReloadTrigger::Api: return "POST /-/reload";
    case ReloadTrigger::FileChange: return "config file change";
  }
  return "unknown";
}

WatchSet watchedFiles(const AgentConfig& config) {
  std::vector<std::string> files{config.file};
  files.insert(files.end(), config.includes.begin(), config.includes.end());
  for (const auto& service : config.catalog.services)
    for (const auto& check : service.checks)
      if (check.http)
        files.insert(files.end(), check.http->secrets.files.begin(),
                     check.http->secrets.files.end());
  if (!config.api.tokenFile.empty()) files.push_back(config.api.tokenFile);
  std::sort(files.begin() + 1, files.end());
  files.erase(std::unique(files.begin() + 1, files.end()), files.end());
  return WatchSet{std::move(files), config.includePatterns};
}

std::string configFingerprint(const WatchSet& watch) {
  // A change detector, not a security boundary: a hash per file and its size, and what each
  // include pattern matches (a new file in an included directory is a change).
  std::string out;
  for (const auto& pattern : watch.patterns) {
    glob_t matches{};
    if (glob(pattern.c_str(), 0, nullptr, &matches) == 0)
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) out += matches.gl_pathv[i] + std::string("\n");
    globfree(&matches);
    out += ";";
  }
  for (const auto& path : watch.files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      out += "unreadable;";  // a file that comes back is a change too
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    out += std::to_string(std::hash<std::string>{}(content)) + ":" +
           std::to_string(content.size()) + ";";
  }
  return out;
}

ReloadCandidate loadReloadCandidate(const std::string& file) {
  const auto started = std::chrono::steady_clock::now();
  ReloadCandidate candidate;
  AgentFile loaded = loadAgentFile(file);
  candidate.diagnostics = std::move(loaded.diagnostics);
  if (loaded.config) {
    candidate.watch = watchedFiles(*loaded.config);
    auto config = std::make_shared<AgentConfig>(std::move(*loaded.config));
    candidate.targets = prepareTargets(*config);
    candidate.config = std::move(config);
    malloc_trim(0);  // the YAML trees are gone
  }
  candidate.loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return candidate;
}

ConfigReloader::ConfigReloader(EventLoop& loop, const AgentConfig& running, Apply apply)
    : loop_(loop),
      file_(running.file),
      watch_(watchedFiles(running)),
      fingerprint_(configFingerprint(watch_)),
      apply_(std::move(apply)),
      watchTimer_(loop) {}

ConfigReloader::~ConfigReloader() {
  stop();
  *alive_ = false;
  if (worker_.joinable()) worker_.join();
  if (disposer_.joinable()) disposer_.join();
}

void ConfigReloader::request(ReloadTrigger trigger, Done done) {
  if (stopped_) {
    if (done) done(ReloadOutcome{false, false, "the agent is shutting down"});
    return;
  }
  if (!busy_) {
    current_.push_back(Waiter{trigger, std::move(done)});
    startLoad();
    return;
  }
  // A file check while a load runs adds nothing: that load reads the files anyway.
  if (trigger == ReloadTrigger::FileChange && !done) return;
  next_.push_back(Waiter{trigger, std::move(done)});
}

void ConfigReloader::startLoad() {
  busy_ = true;
  if (worker_.joinable()) worker_.join();
  // Only file checks asked: read the files, load only when they changed. Content that already
  // failed is logged once, then tried again only every kRetryFailed (the fix may be in a file
  // the running config does not name, such as a new include).
  bool onlyFileChecks = true;
  for (const auto& w : current_) onlyFileChecks &= w.trigger == ReloadTrigger::FileChange;
  const bool retryFailed = loop_.now() - failedAt_ >= kRetryFailed;
  try {
    worker_ = std::thread([this, file = file_, fingerprint = fingerprint_, watch = watch_,
                           failed = retryFailed ? std::string() : failedFingerprint_,
                           onlyFileChecks, alive = alive_] {
      ReloadCandidate candidate;
      // The running config's files as they are before reading: a change while the load runs
      // is seen by the next check.
      const std::string before = configFingerprint(watch);
      const bool unchanged = onlyFileChecks && (before == fingerprint || before == failed);
      if (!unchanged) {
        try {
          candidate = loadReloadCandidate(file);
        } catch (const std::exception& e) {  // bad_alloc, a filesystem error: never fatal
          candidate = ReloadCandidate{};
          candidate.diagnostics.error(SourceLocation{file, 0, 0}, "",
                                      std::string("cannot load: ") + e.what());
        }
      }
      candidate.tried = before;
      // The new config's files: read again only when they are not the running config's (the
      // fingerprint from before the load then counts, so a change made while loading is seen).
      if (candidate.config)
        candidate.fingerprint = candidate.watch == watch ? before : configFingerprint(candidate.watch);
      auto result = std::make_shared<ReloadCandidate>(std::move(candidate));
      loop_.post([this, result, unchanged, alive] {
        if (*alive) finished(std::move(*result), unchanged);
      });
    });
  } catch (const std::system_error& e) {  // no thread: answer now, try again next time
    busy_ = false;
    const ReloadOutcome failed{false, false, std::string("cannot start a reload: ") + e.what()};
    for (auto& w : std::exchange(current_, {}))
      if (w.done) w.done(failed);
  }
}

void ConfigReloader::finished(ReloadCandidate candidate, bool unchanged) {
  if (worker_.joinable()) worker_.join();
  busy_ = false;
  std::vector<Waiter> waiters = std::move(current_);
  current_.clear();
  if (stopped_) return;  // stop() answered them
  ReloadOutcome outcome;
  if (unchanged) {
    outcome = ReloadOutcome{true, true, "the config files did not change"};
  } else {
    const ReloadTrigger trigger = waiters.empty() ? ReloadTrigger::Api : waiters.front().trigger;
    // Taken before apply, which may take the candidate's parts.
    WatchSet watch = std::move(candidate.watch);
    std::string fingerprint = std::move(candidate.fingerprint);
    std::string tried = candidate.tried;
    try {
      outcome = apply_(candidate, trigger);
    } catch (const std::exception& e) {
      reportInternalError("config reload", e.what());
      outcome = ReloadOutcome{false, false, std::string("internal error: ") + e.what() + "\n"};
    }
    if (outcome.ok) {
      watch_ = std::move(watch);
      fingerprint_ = std::move(fingerprint);
      failedFingerprint_.clear();
    } else {
      failedFingerprint_ = std::move(tried);
      failedAt_ = loop_.now();
    }
    // A 100k-target config takes a while to free: not on the loop.
    if (disposer_.joinable()) disposer_.join();
    disposer_ = std::thread([garbage = std::move(candidate)] {});
  }
  for (auto& w : waiters)
    if (w.done) w.done(outcome);
  if (!next_.empty()) {
    current_ = std::move(next_);
    next_.clear();
    startLoad();
  }
}

void ConfigReloader::watchFiles(Duration interval) {
  watchInterval_ = interval;
  armWatch();
}

void ConfigReloader::armWatch() {
  if (watchInterval_.count() <= 0 || stopped_) return;
  watchTimer_.arm(loop_.now() + watchInterval_, [this] {
    request(ReloadTrigger::FileChange);
    armWatch();
  });
}

void ConfigReloader::stop() {
  if (stopped_) return;
  stopped_ = true;
  watchTimer_.reset();
  const ReloadOutcome bye{false, false, "the agent is shutting down"};
  for (auto& list : {&current_, &next_}) {
    for (auto& w : *list)
      if (w.done) w.done(bye);
    list->clear();
  }
}

}  // namespace envprobe
