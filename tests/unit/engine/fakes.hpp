#pragma once
// Simulated time and scripted network for engine tests: nothing sleeps, nothing touches a socket.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "checks/probe_result.hpp"
#include "probe/config/config_model.hpp"
#include "probe/engine/probe_run.hpp"
#include "probe/engine/result_sink.hpp"
#include "probe/io/ports.hpp"
#include "probe/io/timers.hpp"

namespace envprobe::testing {

class ManualTimers : public Timers {
 public:
  TimePoint now() const override { return now_; }
  TimerId addTimer(TimePoint when, std::function<void()> callback) override {
    const TimerId id = next_++;
    timers_.emplace(id, Entry{when, std::move(callback)});
    return id;
  }
  void cancelTimer(TimerId id) override { timers_.erase(id); }
  void post(std::function<void()> task) override { posted_.push_back(std::move(task)); }

  // Runs posted tasks and due timers, then moves time forward by `d`, firing timers in order.
  void advance(std::chrono::milliseconds d) {
    const TimePoint until = now_ + d;
    for (;;) {
      runPosted();
      TimerId due = 0;
      TimePoint at = TimePoint::max();
      for (const auto& [id, entry] : timers_)
        if (entry.when <= until && (entry.when < at || (entry.when == at && id < due))) {
          at = entry.when;
          due = id;
        }
      if (!due) break;
      if (at > now_) now_ = at;
      auto callback = std::move(timers_[due].callback);
      timers_.erase(due);
      callback();
    }
    now_ = until;
    runPosted();
  }
  void runPosted() {
    while (!posted_.empty()) {
      auto task = std::move(posted_.front());
      posted_.pop_front();
      task();
    }
  }
  std::size_t pendingTimers() const { return timers_.size(); }

 private:
  struct Entry {
    TimePoint when;
    std::function<void()> callback;
  };
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
  TimerId next_ = 1;
  std::map<TimerId, Entry> timers_;
  std::deque<std::function<void()>> posted_;
};

// Answers are scripted per name; a name without a script never answers (a silent resolver).
class FakeResolver : public Resolver {
 public:
  explicit FakeResolver(ManualTimers& timers) : timers_(timers) {}
  std::map<std::string, DnsAnswer> answers;
  std::chrono::milliseconds latency{5};
  std::vector<std::string> asked;

  QueryId resolve(const std::string& name, std::function<void(DnsAnswer)> done) override {
    const QueryId id = next_++;
    asked.push_back(name);
    live_[id] = true;
    auto it = answers.find(name);
    if (it == answers.end()) return id;  // silent
    DnsAnswer answer = it->second;
    timers_.addTimer(timers_.now() + latency, [this, id, answer, done = std::move(done)] {
      if (!live_[id]) return;
      live_[id] = false;
      done(answer);
    });
    return id;
  }
  void cancel(QueryId id) override {
    live_[id] = false;
    ++cancelled;
  }
  std::size_t live() const {
    std::size_t n = 0;
    for (const auto& [id, on] : live_) n += on;
    return n;
  }
  std::size_t cancelled = 0;

 private:
  ManualTimers& timers_;
  QueryId next_ = 1;
  std::unordered_map<QueryId, bool> live_;
};

// Each request is answered by `respond` after `latency`; a nullopt answer means "hang".
class FakeHttp : public HttpTransport {
 public:
  explicit FakeHttp(ManualTimers& timers) : timers_(timers) {}
  std::function<std::optional<Observation>(const HttpRequest&)> respond;
  std::chrono::milliseconds latency{10};
  std::vector<HttpRequest> requests;
  std::size_t cancelled = 0;

  TransferId start(const HttpRequest& request, std::function<void(Observation)> done) override {
    const TransferId id = next_++;
    requests.push_back(request);
    live_[id] = true;
    auto answer = respond ? respond(request) : std::optional<Observation>{};
    if (!answer) return id;
    timers_.addTimer(timers_.now() + latency, [this, id, obs = *answer, done = std::move(done)] {
      if (!live_[id]) return;
      live_[id] = false;
      done(obs);
    });
    return id;
  }
  void cancel(TransferId id) override {
    if (live_[id]) ++cancelled;
    live_[id] = false;
  }
  std::size_t live() const {
    std::size_t n = 0;
    for (const auto& [id, on] : live_) n += on;
    return n;
  }

 private:
  ManualTimers& timers_;
  TransferId next_ = 1;
  std::unordered_map<TransferId, bool> live_;
};

// Judges on the loop, one posted task later: the ordering of the pool, without threads.
class InlineJudge : public Judge {
 public:
  explicit InlineJudge(ManualTimers& timers) : timers_(timers) {}
  Ticket judge(std::shared_ptr<const ProbeTarget> target, Observation observation,
               Completion done) override {
    const Ticket ticket = next_++;
    live_[ticket] = true;
    timers_.post([this, ticket, target, obs = std::move(observation), done = std::move(done)] {
      if (!live_[ticket]) return;
      live_[ticket] = false;
      done(obs, target->assertions->evaluate(obs));
    });
    return ticket;
  }
  void cancel(Ticket ticket) override { live_[ticket] = false; }

 private:
  ManualTimers& timers_;
  Ticket next_ = 1;
  std::unordered_map<Ticket, bool> live_;
};

// Records what a session publishes.
class RecordingSink : public ResultSink {
 public:
  std::vector<ProbeResult> results;
  std::vector<std::string> removed;  // "targetId|address"
  void onResult(const ProbeResult& result) override { results.push_back(result); }
  void onSeriesRemoved(const Target& target, const std::string& address) override {
    removed.push_back(target.id + "|" + address);
  }
};

inline Observation okResponse(int status = 200, std::string body = "ok") {
  Observation o;
  o.statusCode = status;
  o.body = std::move(body);
  return o;
}

inline Observation redirectTo(std::string location, int status = 302) {
  Observation o;
  o.statusCode = status;
  o.redirectUrl = std::move(location);
  return o;
}

inline DnsAnswer addresses(std::vector<std::string> ips) {
  DnsAnswer a;
  a.addresses = std::move(ips);
  return a;
}

inline DnsAnswer dnsError(TransportError error, std::string detail) {
  DnsAnswer a;
  a.error = error;
  a.detail = std::move(detail);
  return a;
}

// A prepared target: http://<hostname>/ with the given options.
inline std::shared_ptr<const ProbeTarget> makeTarget(
    const std::string& hostname, std::string backend = "",
    AddressMode mode = AddressMode::First, std::chrono::milliseconds timeout = std::chrono::seconds(1),
    std::function<void(HttpCheckSpec&)> tweak = nullptr) {
  auto spec = std::make_shared<HttpCheckSpec>();
  spec->scheme = "http";
  spec->expect.status = {StatusRange{200, 299}};
  if (tweak) tweak(*spec);
  Target t;
  t.env = "at";
  t.service = "shop";
  t.check = "home";
  t.hostname = hostname;
  t.backend = backend;
  t.id = "at/shop/home/internal/" + hostname + (backend.empty() ? "" : "@" + backend);
  t.url = "http://" + hostname + "/";
  t.port = 80;
  t.interval = std::chrono::seconds(10);
  t.timeout = timeout;
  t.addressMode = mode;
  t.http = spec;
  auto assertions = std::make_shared<const HttpAssertions>(spec->expect, "at");
  return prepareTarget(std::move(t), std::move(assertions));
}

}  // namespace envprobe::testing
