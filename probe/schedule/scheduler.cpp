#include "probe/schedule/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace envprobe {

namespace {

// NaN and out-of-range jitter fall back to the nearest sane value rather than failing.
double saneJitter(double jitter) { return std::isnan(jitter) ? 0.0 : std::clamp(jitter, 0.0, 0.5); }

// A cap of zero would never hand out a run; treat it as the smallest useful cap.
std::size_t saneCap(std::size_t cap) { return std::max<std::size_t>(cap, 1); }

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : jitter_(saneJitter(options.jitter)),
      maxInflight_(saneCap(options.maxInflight)),
      rngState_(options.seed) {}

void Scheduler::setLimits(double jitter, std::size_t maxInflight) {
  jitter_ = saneJitter(jitter);
  maxInflight_ = saneCap(maxInflight);
}

std::uint64_t Scheduler::phaseHash(const std::string& id) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::uint64_t Scheduler::add(const std::string& id, std::chrono::milliseconds interval,
                             TimePoint now) {
  if (interval.count() <= 0) throw std::invalid_argument("scheduler: interval must be positive");
  std::uint32_t slot = 0;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    if (targets_.size() >= UINT32_MAX) throw std::length_error("scheduler: too many targets");
    slot = static_cast<std::uint32_t>(targets_.size());
    targets_.emplace_back();
  }
  const auto phase = std::chrono::milliseconds(
      static_cast<std::int64_t>(phaseHash(id) % static_cast<std::uint64_t>(interval.count())));
  Target& target = targets_[slot];
  target.interval = std::chrono::duration_cast<Clock::duration>(interval);
  target.live = true;
  target.waiting = target.inflight = false;
  ++target.keyGen;
  ++live_;
  startSlot(target, now + phase);
  setTimer(slot, target.due);
  return keyOf(slot);
}

Scheduler::Target* Scheduler::find(std::uint64_t key) {
  const std::uint32_t slot = slotOf(key);
  if (slot >= targets_.size()) return nullptr;
  Target& target = targets_[slot];
  return target.live && target.keyGen == static_cast<std::uint32_t>(key >> 32) ? &target : nullptr;
}

void Scheduler::remove(std::uint64_t targetKey) {
  Target* target = find(targetKey);
  if (!target) return;
  if (target->waiting) waiting_.erase({target->due, targetKey});
  // The caller is expected to abandon the run; its complete() will find no target.
  if (target->inflight) --inflight_;
  target->live = target->waiting = target->inflight = false;
  ++target->timerGen;  // its timers go stale
  --live_;
  freeSlots_.push_back(slotOf(targetKey));
  pruneTop();
  compactIfSparse();
}

std::optional<Scheduler::TimePoint> Scheduler::nextDeadline() const {
  std::optional<TimePoint> next;
  if (!timers_.empty()) next = timers_.front().at;  // pruneTop keeps the front live
  if (!waiting_.empty() && inflight_ < maxInflight_) {
    const TimePoint oldest = waiting_.begin()->first;
    if (!next || oldest < *next) next = oldest;
  }
  return next;
}

std::vector<DueRun> Scheduler::popDue(TimePoint now) {
  // First settle every target whose timer has passed, so expired runs are skipped before any
  // capacity is handed out and newly due runs queue behind older waiting ones.
  while (!timers_.empty() && timers_.front().at <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), TimerLater{});
    const Timer timer = timers_.back();
    timers_.pop_back();
    if (!isLive(timer)) continue;
    fire(timer.slot, now);
  }

  std::vector<DueRun> runs;
  while (inflight_ < maxInflight_ && !waiting_.empty()) {
    const std::uint64_t key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    Target& target = targets_[slotOf(key)];
    runs.push_back(DueRun{key, target.scheduled, target.due});
    target.waiting = false;
    target.inflight = true;
    ++inflight_;
    // Next slot counts from this slot, never from now: no drift.
    startSlot(target, target.scheduled + target.interval);
    setTimer(slotOf(key), target.due);
  }
  pruneTop();
  return runs;
}

void Scheduler::complete(std::uint64_t targetKey) {
  Target* target = find(targetKey);
  if (!target || !target->inflight) return;
  target->inflight = false;
  --inflight_;
}

// Advances one target whose timer passed. Each branch sets exactly one new timer.
void Scheduler::fire(std::uint32_t slot, TimePoint now) {
  Target& target = targets_[slot];
  const std::uint64_t key = keyOf(slot);
  if (now >= target.scheduled + target.interval) {
    // The current slot is over without its run starting (late caller, or no capacity): skip it
    // and every other missed slot, and resume at the latest slot that has begun.
    const auto missed = (now - target.scheduled) / target.interval;
    skipped_ += static_cast<std::uint64_t>(missed);
    if (target.waiting) {
      waiting_.erase({target.due, key});
      target.waiting = false;
    }
    startSlot(target, target.scheduled + missed * target.interval);
    setTimer(slot, target.due);  // may already be due; the popDue loop picks it up
    return;
  }
  if (target.waiting) {
    // Defensive: a waiting run's timer is its expiry, so this is not expected.
    setTimer(slot, target.scheduled + target.interval);
    return;
  }
  if (target.inflight) {
    // A slow target skips its own run instead of queueing; other targets are unaffected.
    ++skipped_;
    startSlot(target, target.scheduled + target.interval);
    setTimer(slot, target.due);
    return;
  }
  target.waiting = true;
  waiting_.insert({target.due, key});
  setTimer(slot, target.scheduled + target.interval);  // expiry of the waiting run
}

void Scheduler::startSlot(Target& target, TimePoint slot) {
  target.scheduled = slot;
  // A fresh offset per run, added to the slot and never carried forward: jitter cannot accumulate.
  target.due = slot + jitterFor(target.interval);
}

void Scheduler::setTimer(std::uint32_t slot, TimePoint at) {
  timers_.push_back(Timer{at, slot, ++targets_[slot].timerGen});
  std::push_heap(timers_.begin(), timers_.end(), TimerLater{});
  compactIfSparse();
}

bool Scheduler::isLive(const Timer& timer) const {
  const Target& target = targets_[timer.slot];
  return target.live && target.timerGen == timer.gen;
}

// Keeps the heap front live so nextDeadline can stay const and O(1).
void Scheduler::pruneTop() {
  while (!timers_.empty() && !isLive(timers_.front())) {
    std::pop_heap(timers_.begin(), timers_.end(), TimerLater{});
    timers_.pop_back();
  }
}

// Stale entries from removals and releases would otherwise pile up under config-reload churn.
void Scheduler::compactIfSparse() {
  if (timers_.size() > 2 * live_ + 64) dropStaleTimers();
}

void Scheduler::dropStaleTimers() {
  std::erase_if(timers_, [this](const Timer& timer) { return !isLive(timer); });
  std::make_heap(timers_.begin(), timers_.end(), TimerLater{});
}

void Scheduler::shrinkToFit() {
  dropStaleTimers();
  timers_.shrink_to_fit();
  // Free slots stay (with their key generations, so that no key is ever handed out twice).
  targets_.shrink_to_fit();
  freeSlots_.shrink_to_fit();
}

Scheduler::Clock::duration Scheduler::jitterFor(Clock::duration interval) {
  const auto span = static_cast<std::int64_t>(jitter_ * static_cast<double>(interval.count()));
  if (span <= 0) return Clock::duration::zero();
  // Modulo bias is negligible: span is far below 2^64.
  return Clock::duration(static_cast<std::int64_t>(nextRandom() % static_cast<std::uint64_t>(span)));
}

// splitmix64: tiny, fast, and good enough to spread jitter.
std::uint64_t Scheduler::nextRandom() {
  std::uint64_t z = (rngState_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace envprobe
