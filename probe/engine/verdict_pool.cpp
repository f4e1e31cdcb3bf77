#include "probe/engine/verdict_pool.hpp"

#include "probe/base/internal_errors.hpp"

#include <exception>
#include <string>
#include <utility>

namespace envprobe {
namespace {

constexpr std::size_t kMaxErrorText = 200;  // an exception text may quote anything

Verdict errorVerdict(std::string detail) {
  Verdict verdict;
  verdict.ok = false;
  verdict.reason = Reason::Error;
  verdict.detail = std::move(detail);
  return verdict;
}

}  // namespace

VerdictPool::VerdictPool(Post post, Options options) : post_(std::move(post)), options_(options) {
  if (options_.threads == 0) options_.threads = 1;
  workers_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { work(); });
}

VerdictPool::~VerdictPool() { shutdown(); }

void VerdictPool::setMaxQueued(std::size_t maxQueued) {
  std::lock_guard<std::mutex> lock(mutex_);
  options_.maxQueued = maxQueued;
}

VerdictPool::Ticket VerdictPool::submit(Observation observation, Evaluate evaluate,
                                        Completion completion) {
  Ticket ticket = kNoTicket;
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return kNoTicket;
    ticket = nextTicket_++;
    {
      std::lock_guard<std::mutex> deliveriesLock(deliveries_->mutex);
      deliveries_->pending.emplace(ticket, std::move(completion));
    }
    full = queue_.size() >= options_.maxQueued;
    if (!full) queue_.emplace(ticket, Job{std::move(observation), std::move(evaluate)});
  }
  if (full) {
    rejected_.fetch_add(1);
    deliver(ticket, std::move(observation), errorVerdict("verdict queue full"));
  } else {
    wake_.notify_one();
  }
  return ticket;
}

void VerdictPool::cancel(Ticket ticket) {
  // Extracted under the lock, destroyed after it: a dropped job may hold a large body.
  decltype(queue_)::node_type job;
  decltype(Deliveries::pending)::node_type completion;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job = queue_.extract(ticket);
  }
  {
    std::lock_guard<std::mutex> lock(deliveries_->mutex);
    completion = deliveries_->pending.extract(ticket);
  }
}

void VerdictPool::stop() {
  decltype(queue_) dropped;
  decltype(Deliveries::pending) voided;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  {
    std::lock_guard<std::mutex> lock(deliveries_->mutex);
    deliveries_->voided = true;
    voided.swap(deliveries_->pending);
  }
}

void VerdictPool::shutdown() {
  stop();
  std::lock_guard<std::mutex> lock(joinMutex_);
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

std::size_t VerdictPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void VerdictPool::work() {
  while (true) {
    decltype(queue_)::node_type node;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      node = queue_.extract(queue_.begin());
    }
    Job& job = node.mapped();
    Verdict verdict;
    try {
      verdict = job.evaluate(job.observation);
    } catch (const std::exception& e) {
      internalErrors_.fetch_add(1);
      reportInternalError("verdict worker", e.what());
      std::string what = e.what();
      if (what.size() > kMaxErrorText) what = what.substr(0, kMaxErrorText) + "...";
      verdict = errorVerdict("internal error: " + what);
    } catch (...) {
      internalErrors_.fetch_add(1);
      reportInternalError("verdict worker", "unknown exception");
      verdict = errorVerdict("internal error: unknown exception");
    }
    deliver(node.key(), std::move(job.observation), std::move(verdict));
  }
}

void VerdictPool::deliver(Ticket ticket, Observation observation, Verdict verdict) {
  {
    std::lock_guard<std::mutex> lock(deliveries_->mutex);
    if (deliveries_->voided || deliveries_->pending.count(ticket) == 0) return;  // cancelled
  }
  // The task holds the shared delivery state, not the pool: the loop may run it after the pool
  // is gone. Whether the completion still runs is decided there, on the loop thread.
  auto task = [deliveries = deliveries_, ticket, observation = std::move(observation),
               verdict = std::move(verdict)]() mutable {
    Completion completion;
    {
      std::lock_guard<std::mutex> lock(deliveries->mutex);
      if (deliveries->voided) return;
      auto it = deliveries->pending.find(ticket);
      if (it == deliveries->pending.end()) return;
      completion = std::move(it->second);
      deliveries->pending.erase(it);
    }
    if (completion) completion(std::move(observation), std::move(verdict));
  };
  try {
    post_(std::move(task));
  } catch (...) {
    // Nowhere to deliver it (e.g. out of memory while queueing): count it, drop the completion.
    internalErrors_.fetch_add(1);
    std::lock_guard<std::mutex> lock(deliveries_->mutex);
    deliveries_->pending.erase(ticket);
  }
}

}  // namespace envprobe
