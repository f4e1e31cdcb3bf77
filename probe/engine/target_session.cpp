#include "probe/engine/target_session.hpp"

#include <algorithm>
#include <utility>

namespace envprobe {

TargetSession::TargetSession(std::shared_ptr<const ProbeTarget> target, std::uint64_t scheduleKey,
                             SessionOutputs& outputs)
    : target_(std::move(target)), scheduleKey_(scheduleKey), outputs_(outputs) {}

TargetSession::~TargetSession() { cancelRun(); }

void TargetSession::startRun(ProbeIo& io, RunListener& listener) {
  cancelRun();
  everStarted_ = true;
  listener_ = &listener;
  run_ = std::make_unique<ProbeRun>(io, target_, [this](RunOutcome outcome) {
    // The run is finished; keep it alive until this callback returns.
    auto finished = std::move(run_);
    RunListener* listener = std::exchange(listener_, nullptr);
    apply(std::move(outcome));
    if (listener) listener->runFinished(*this);
  });
  run_->start();
}

void TargetSession::cancelRun() {
  if (run_) run_->cancel();
  run_.reset();
  listener_ = nullptr;
}

void TargetSession::retire() {
  cancelRun();
  for (const auto& address : addresses_)
    for (ResultSink* sink : outputs_.sinks) sink->onSeriesRemoved(target_->target, address);
  addresses_.clear();
}

void TargetSession::apply(RunOutcome outcome) {
  std::vector<ProbeResult>& results = outcome.results;
  if (outcome.dnsFailed && !results.empty()) {
    // address_mode all without an answer: the failure belongs on the addresses already known,
    // not on a new address-less series (one only exists until the name first resolves).
    if (!addresses_.empty()) {
      const ProbeResult failure = std::move(results.front());
      results.clear();
      for (const auto& address : addresses_) {
        results.push_back(failure);
        results.back().address = address.str();
      }
    }
  }
  // Most runs report the one address they reported last time: nothing to compare or rebuild.
  const bool sameSeries = results.size() == 1 && addresses_.size() == 1 &&
                          addresses_.front() == results.front().address;
  if (!sameSeries) {
    std::vector<std::string> current;
    for (const auto& result : results) current.push_back(result.address);
    std::sort(current.begin(), current.end());
    current.erase(std::unique(current.begin(), current.end()), current.end());
    for (const auto& address : addresses_) {
      if (std::binary_search(current.begin(), current.end(), address.str())) continue;
      for (ResultSink* sink : outputs_.sinks) sink->onSeriesRemoved(target_->target, address);
    }
    addresses_.assign(current.begin(), current.end());
  }
  if (outputs_.amender)
    for (auto& result : results) outputs_.amender->amend(result);
  for (const auto& result : results)
    for (ResultSink* sink : outputs_.sinks) sink->onResult(result);
}

}  // namespace envprobe
