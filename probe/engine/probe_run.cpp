#include "probe/engine/probe_run.hpp"

#include <strings.h>

#include <algorithm>
#include <exception>

#include "probe/base/duration.hpp"
#include "probe/base/internal_errors.hpp"
#include "probe/config/address_rules.hpp"
#include "probe/io/url.hpp"

namespace envprobe {

namespace {

constexpr std::size_t kMaxErrorText = 200;  // an exception text may quote anything

bool isRedirectStatus(int code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

void addPhases(PhaseTimes& sum, const PhaseTimes& hop) {
  sum.connect += hop.connect;
  sum.tls += hop.tls;
  sum.processing += hop.processing;
  sum.transfer += hop.transfer;
}

}  // namespace

ProbeRun::ProbeRun(ProbeIo& io, std::shared_ptr<const ProbeTarget> target, OnFinished onFinished)
    : io_(io), target_(std::move(target)), onFinished_(std::move(onFinished)),
      deadlineTimer_(io.timers) {}

ProbeRun::~ProbeRun() { cancel(); }

void ProbeRun::cancel() {
  deadlineTimer_.reset();
  if (query_) io_.resolver.cancel(query_);
  query_ = 0;
  for (std::size_t i = 0; i < legCount_; ++i) {
    Leg& l = leg(i);
    if (l.transfer) io_.http.cancel(l.transfer);
    if (l.query) io_.resolver.cancel(l.query);
    if (l.ticket) io_.judge.cancel(l.ticket);
    l.transfer = 0;
    l.query = 0;
    l.ticket = 0;
  }
  finished_ = true;
  onFinished_ = nullptr;
}

double ProbeRun::elapsedSeconds() const {
  return std::chrono::duration<double>(io_.timers.now() - started_).count();
}

void ProbeRun::start() {
  const ProbeTarget& t = *target_;
  started_ = io_.timers.now();
  deadline_ = started_ + t.target.timeout;
  deadlineTimer_.arm(deadline_, [this] { onDeadline(); });
  const std::string_view backendHost = t.backendHost();
  const std::string backendName(backendHost);  // an address or a short name: no allocation
  const std::string& name = backendHost.empty() ? t.target.hostname : backendName;
  if (isIpLiteral(name)) {
    DnsAnswer literal;
    literal.addresses.push_back(name);
    onResolved(std::move(literal));
    return;
  }
  query_ = io_.resolver.resolve(name, [this](DnsAnswer answer) {
    query_ = 0;
    onResolved(std::move(answer));
  });
}

void ProbeRun::onResolved(DnsAnswer answer) {
  const Target& t = target_->target;
  dnsSeconds_ = answer.seconds;
  if (answer.error != TransportError::None) {
    ProbeResult& result = outcome_.results.emplace_back();
    result.target = target_;
    result.address = t.backend;
    result.observation.transportError = answer.error;
    result.observation.transportDetail = std::move(answer.detail);
    result.observation.dnsSeconds = answer.seconds;
    result.observation.phases.resolve = answer.seconds;
    result.observation.durationSeconds = elapsedSeconds();
    result.verdict = target_->assertions->evaluate(result.observation);
    result.finishedAt = std::chrono::system_clock::now();
    outcome_.dnsFailed = t.addressMode == AddressMode::All && t.backend.empty();
    maybeFinish();
    return;
  }
  resolvedAddresses_.clear();
  if (t.backend.empty() && !answer.addresses.empty()) {
    std::vector<std::string> sorted = answer.addresses;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (const auto& address : sorted) {
      if (!resolvedAddresses_.empty()) resolvedAddresses_ += ',';
      resolvedAddresses_ += address;
    }
  }
  const bool perAddress = t.addressMode == AddressMode::All && t.backend.empty();
  const std::size_t count = perAddress ? answer.addresses.size() : 1;
  if (count > 1) moreLegs_ = std::make_unique<Leg[]>(count - 1);
  legCount_ = count;
  outcome_.results.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Leg& l = leg(i);
    l.address = std::move(answer.addresses[i]);
    l.label = perAddress ? l.address : t.backend.str();
  }
  for (std::size_t i = 0; i < count; ++i) startLeg(leg(i));
}

void ProbeRun::startLeg(Leg& leg) {
  const ProbeTarget& pt = *target_;
  leg.request.spec = pt.target.http.get();
  leg.request.url = pt.requestUrl();
  leg.request.hostname = pt.target.hostname;
  leg.request.port = pt.target.port;
  leg.request.connectAddress = leg.address;
  leg.request.connectPort = pt.backendPort;
  startHop(leg);
}

void ProbeRun::startHop(Leg& leg) {
  const auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - io_.timers.now());
  leg.request.timeoutMs = std::max<long>(1, static_cast<long>(remaining.count()));
  leg.transfer = io_.http.start(leg.request, [this, &leg](Observation hop) {
    leg.transfer = 0;
    onHop(leg, std::move(hop));
  });
}

void ProbeRun::onHop(Leg& leg, Observation&& hop) {
  addPhases(leg.phases, hop.phases);
  const HttpCheckSpec& spec = *target_->target.http;
  if (hop.transportError == TransportError::None && spec.followRedirects &&
      isRedirectStatus(hop.statusCode) && !hop.redirectUrl.empty()) {
    followRedirect(leg, hop);
    return;
  }
  finishLeg(leg, std::move(hop));
}

void ProbeRun::followRedirect(Leg& leg, const Observation& hop) {
  const ProbeTarget& pt = *target_;
  const HttpCheckSpec& spec = *pt.target.http;
  const auto next = parseUrl(hop.redirectUrl);
  if (!next) {
    failLeg(leg, TransportError::Redirects,
            "redirect to an unusable Location: " + redactedUrl(hop.redirectUrl));
    return;
  }
  if (next->scheme != "http" && next->scheme != "https") {
    failLeg(leg, TransportError::Redirects,
            "redirect to " + next->scheme + ":// not followed: only http and https are");
    return;
  }
  if (leg.redirects >= spec.maxRedirects) {
    failLeg(leg, TransportError::Redirects,
            "more than max_redirects (" + std::to_string(spec.maxRedirects) +
                ") redirects, last to " + redactedUrl(hop.redirectUrl));
    return;
  }
  if (leg.redirects == 0) {
    if (auto first = parseUrl(leg.request.url)) leg.origin = *first;
  }
  ++leg.redirects;
  HttpRequest& r = leg.request;
  if (!sameOrigin(leg.origin, *next)) r.sendCustomHeaders = false;  // and never again
  const std::string method = r.method.empty() ? spec.method : r.method;
  if ((hop.statusCode == 303 && method != "HEAD") ||
      ((hop.statusCode == 301 || hop.statusCode == 302) && method == "POST")) {
    r.method = "GET";
    r.sendBody = false;
  }
  r.url = hop.redirectUrl;
  r.hostname = next->host;
  r.port = next->port;
  leg.origin = *next;
  if (strcasecmp(next->host.c_str(), pt.target.hostname.c_str()) == 0) {
    // The target's own hostname: the address this leg probes (the pinned backend keeps its port
    // while the redirect stays on the original scheme and port).
    const bool samePort = next->port == pt.target.port;
    r.connectAddress = leg.address;
    r.connectPort = samePort ? pt.backendPort : 0;
    startHop(leg);
    return;
  }
  r.connectPort = 0;
  if (isIpLiteral(next->host)) {
    r.connectAddress = next->host;
    startHop(leg);
    return;
  }
  const std::string host = next->host;
  leg.query = io_.resolver.resolve(host, [this, &leg, host](DnsAnswer answer) {
    leg.query = 0;
    if (answer.error != TransportError::None) {
      failLeg(leg, answer.error, "redirect to " + host + ": " + answer.detail);
      return;
    }
    leg.request.connectAddress = answer.addresses.front();
    startHop(leg);
  });
}

void ProbeRun::failLeg(Leg& leg, TransportError error, std::string detail) {
  Observation observation;
  observation.transportError = error;
  observation.transportDetail = std::move(detail);
  finishLeg(leg, std::move(observation));
}

void ProbeRun::finishLeg(Leg& leg, Observation&& observation) {
  if (leg.done || leg.judging) return;
  leg.judging = true;
  if (leg.transfer) io_.http.cancel(leg.transfer);
  if (leg.query) io_.resolver.cancel(leg.query);
  leg.transfer = 0;
  leg.query = 0;
  observation.redirects = leg.redirects;
  observation.phases = leg.phases;
  observation.phases.resolve = dnsSeconds_;
  observation.dnsSeconds = dnsSeconds_;
  observation.durationSeconds = elapsedSeconds();
  observation.resolvedAddress = leg.address;
  if (target_->assertions->cheapFor(observation)) {
    // Small enough to judge here: no trip to the pool and back.
    Verdict verdict = judgeHere(observation);
    judged(leg, std::move(observation), std::move(verdict));  // may end the run: nothing after
    return;
  }
  leg.ticket = io_.judge.judge(target_, std::move(observation),
                               [this, &leg](Observation judgedObservation, Verdict verdict) {
                                 leg.ticket = 0;
                                 judged(leg, std::move(judgedObservation), std::move(verdict));
                               });
  if (!leg.ticket) {  // the judge is shutting down: this leg ends without a result
    leg.done = true;
    maybeFinish();
  }
}

Verdict ProbeRun::judgeHere(Observation& observation) const {
  // As the pool does: an exception is an error verdict, reported, never a run left hanging.
  std::string what;
  try {
    return target_->assertions->evaluateOwned(observation);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  reportInternalError("verdict on the loop", what);
  if (what.size() > kMaxErrorText) what = what.substr(0, kMaxErrorText) + "...";
  Verdict verdict;
  verdict.ok = false;
  verdict.reason = Reason::Error;
  verdict.detail = "internal error: " + what;
  return verdict;
}

void ProbeRun::judged(Leg& leg, Observation&& observation, Verdict&& verdict) {
  leg.done = true;
  ProbeResult& result = outcome_.results.emplace_back();
  result.target = target_;
  result.address = leg.label;
  result.verdict = std::move(verdict);
  // The body has been judged; its memory goes back now, not when the result is dropped.
  std::string().swap(observation.body);
  result.observation = std::move(observation);
  result.observation.resolvedAddresses = resolvedAddresses_;
  result.finishedAt = std::chrono::system_clock::now();
  maybeFinish();
}

void ProbeRun::onDeadline() {
  const std::string timeout = formatDuration(target_->target.timeout);
  if (query_) {
    io_.resolver.cancel(query_);
    query_ = 0;
    DnsAnswer answer;
    answer.error = TransportError::DnsTimeout;
    answer.detail = "no answer from the resolver within the check's timeout (" + timeout + ")";
    answer.seconds = elapsedSeconds();
    onResolved(std::move(answer));
    return;
  }
  // Collect first: finishing the last leg may end the run.
  std::vector<Leg*> open;
  for (std::size_t i = 0; i < legCount_; ++i)
    if (!leg(i).done && !leg(i).judging) open.push_back(&leg(i));  // judging: answered in time
  for (std::size_t i = 0; i < open.size(); ++i) {
    Leg& leg = *open[i];
    const bool lastOne = i + 1 == open.size();
    if (leg.query) {
      failLeg(leg, TransportError::DnsTimeout,
              "redirect: no answer from the resolver within the check's timeout (" + timeout + ")");
    } else {
      failLeg(leg, TransportError::Timeout,
              "no complete response within the check's timeout (" + timeout + ")");
    }
    if (lastOne) return;  // `this` may be gone
  }
}

void ProbeRun::maybeFinish() {
  if (finished_) return;
  if (query_) return;
  for (std::size_t i = 0; i < legCount_; ++i)
    if (!leg(i).done) return;
  finished_ = true;
  deadlineTimer_.reset();
  auto done = std::move(onFinished_);
  onFinished_ = nullptr;
  if (done) done(std::move(outcome_));  // may destroy this run: nothing after
}

}  // namespace envprobe
