#include "probe/engine/prober.hpp"

#include <algorithm>
#include <cstdlib>

#include "probe/io/http_check.hpp"

namespace envprobe {

struct Prober::Run {
  std::shared_ptr<const ProbeTarget> target;
  OnResult onResult;
  std::function<void()> onDone;
  EventLoop::TimePoint started;
  int pending = 0;

  void finishOne() {
    if (--pending == 0 && onDone) onDone();
  }
};

void Prober::probe(std::shared_ptr<const ProbeTarget> target, OnResult onResult,
                   std::function<void()> onDone) {
  auto run = std::make_shared<Run>();
  run->target = std::move(target);
  run->onResult = std::move(onResult);
  run->onDone = std::move(onDone);
  run->started = loop_.now();
  run->pending = 1;
  const ProbeTarget& t = *run->target;
  const std::string& label = t.target.backend;

  if (!t.backendHost.empty() && isIpLiteral(t.backendHost)) {
    runHttp(run, t.backendHost, label, 0);
    return;
  }
  const std::string& name = t.backendHost.empty() ? t.target.hostname : t.backendHost;
  if (isIpLiteral(name)) {
    runHttp(run, name, label, 0);
    return;
  }
  resolver_.resolve(name, [this, run, label](DnsAnswer answer) {
    if (answer.error != TransportError::None) {
      fail(run, answer, label);
      return;
    }
    const ProbeTarget& t = *run->target;
    if (t.target.addressMode == AddressMode::All && t.target.backend.empty()) {
      run->pending = static_cast<int>(answer.addresses.size());
      for (const auto& address : answer.addresses) runHttp(run, address, address, answer.seconds);
    } else {
      runHttp(run, answer.addresses.front(), label, answer.seconds);
    }
  });
}

void Prober::fail(const std::shared_ptr<Run>& run, const DnsAnswer& answer,
                  const std::string& label) {
  ProbeResult result;
  result.target = run->target;
  result.address = label;
  result.observation.transportError = answer.error;
  result.observation.transportDetail = answer.detail;
  result.observation.dnsSeconds = answer.seconds;
  result.observation.phases.resolve = answer.seconds;
  result.observation.durationSeconds =
      std::chrono::duration<double>(loop_.now() - run->started).count();
  result.verdict = run->target->assertions->evaluate(result.observation);
  result.finishedAt = std::chrono::system_clock::now();
  run->onResult(std::move(result));
  run->finishOne();
}

void Prober::runHttp(const std::shared_ptr<Run>& run, const std::string& address,
                     const std::string& label, double dnsSeconds) {
  const Target& t = run->target->target;
  HttpRequest request;
  request.spec = t.http.get();
  request.url = t.url;
  request.hostname = t.hostname;
  request.port = t.port;
  request.connectAddress = address;
  request.connectPort = run->target->backendPort;
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(loop_.now() - run->started);
  request.timeoutMs = static_cast<long>((t.timeout - elapsed).count());
  auto check = std::make_shared<HttpCheck>(request);
  curl_.start(check->handle(), [this, run, check, address, label, dnsSeconds](CURLcode code) {
    ProbeResult result;
    result.target = run->target;
    result.address = label;
    result.observation = check->finish(code);
    result.observation.resolvedAddress = address;
    result.observation.dnsSeconds = dnsSeconds;
    result.observation.phases.resolve = dnsSeconds;
    result.observation.durationSeconds += dnsSeconds;
    result.verdict = run->target->assertions->evaluate(result.observation);
    result.finishedAt = std::chrono::system_clock::now();
    run->onResult(std::move(result));
    run->finishOne();
  });
}

}  // namespace envprobe
