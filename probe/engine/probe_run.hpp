#pragma once
// One probe of one target, as a cancellable run on the loop: resolve (the environment's resolver,
// or the pinned backend), then one HTTP exchange per address, following redirects hop by hop so
// that every hop stays in the environment, all under one deadline (the check's timeout), then
// judge each observation. Cancelling (or destroying) a run stops its DNS query, transfers and
// deadline timer; nothing calls back after that.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "checks/probe_result.hpp"
#include "probe/io/ports.hpp"
#include "probe/io/timers.hpp"
#include "probe/io/url.hpp"

namespace envprobe {

// Judging an observation (assertions: regexes, JSON) can take long on hostile bodies, so it runs
// off the loop in production (a worker pool) and the completion comes back on the loop. ProbeRun
// asks the Judge only when the target's assertions say the observation is not cheap to judge
// (HttpAssertions::cheapFor); a cheap one is judged on the loop, at once.
class Judge {
 public:
  using Ticket = std::uint64_t;  // 0: not accepted (shutting down); the completion never runs
  using Completion = std::function<void(Observation, Verdict)>;
  virtual ~Judge() = default;
  virtual Ticket judge(std::shared_ptr<const ProbeTarget> target, Observation observation,
                       Completion done) = 0;
  virtual void cancel(Ticket ticket) = 0;
};

// The engine's view of the outside world; real adapters in production, fakes in unit tests.
struct ProbeIo {
  Timers& timers;
  Resolver& resolver;
  HttpTransport& http;
  Judge& judge;
};

struct RunOutcome {
  std::vector<ProbeResult> results;  // one per probed address
  // address_mode all: resolution failed, so `results` holds one failure with an empty address
  // that the session reports on the addresses it knows.
  bool dnsFailed = false;
};

class ProbeRun {
 public:
  using OnFinished = std::function<void(RunOutcome)>;

  ProbeRun(ProbeIo& io, std::shared_ptr<const ProbeTarget> target, OnFinished onFinished);
  ~ProbeRun();
  ProbeRun(const ProbeRun&) = delete;
  ProbeRun& operator=(const ProbeRun&) = delete;

  void start();
  void cancel();

 private:
  // One probed address: its hops, then its judgement.
  struct Leg {
    std::string label;    // the `address` label of its series
    std::string address;  // the IP the target's hostname is reached at
    HttpRequest request;  // the current hop
    UrlParts origin;      // the current hop's URL; parsed at the first redirect
    int redirects = 0;
    PhaseTimes phases;  // summed over hops, as blackbox_exporter does
    HttpTransport::TransferId transfer = 0;
    Resolver::QueryId query = 0;  // a redirect's DNS query
    Judge::Ticket ticket = 0;     // judging the final observation
    bool judging = false;         // the network part is over
    bool done = false;
  };
  Leg& leg(std::size_t i) { return i == 0 ? firstLeg_ : moreLegs_[i - 1]; }
  void onResolved(DnsAnswer answer);
  void startLeg(Leg& leg);
  void startHop(Leg& leg);
  void onHop(Leg& leg, Observation&& hop);
  void followRedirect(Leg& leg, const Observation& hop);
  void finishLeg(Leg& leg, Observation&& observation);
  Verdict judgeHere(Observation& observation) const;
  void judged(Leg& leg, Observation&& observation, Verdict&& verdict);
  void failLeg(Leg& leg, TransportError error, std::string detail);
  void onDeadline();
  void maybeFinish();
  double elapsedSeconds() const;

  ProbeIo& io_;
  std::shared_ptr<const ProbeTarget> target_;
  OnFinished onFinished_;
  Timers::TimePoint started_{};
  Timers::TimePoint deadline_{};
  OwnedTimer deadlineTimer_;
  Resolver::QueryId query_ = 0;
  double dnsSeconds_ = 0;
  std::string resolvedAddresses_;  // the DNS answer, sorted, comma-joined
  // The legs, once resolved: one, or (address_mode all) one per address. The first is kept
  // here, so the common run allocates none.
  std::size_t legCount_ = 0;
  Leg firstLeg_;
  std::unique_ptr<Leg[]> moreLegs_;
  RunOutcome outcome_;
  bool finished_ = false;
};

}  // namespace envprobe
