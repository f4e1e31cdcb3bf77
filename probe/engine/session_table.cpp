#include "probe/engine/session_table.hpp"

#include <algorithm>
#include <deque>

namespace envprobe {

struct SessionTable::OnceRun {
  std::deque<std::string> queue;  // target ids, sorted
  std::size_t remaining = 0;
  std::function<void()> done;
};

SessionTable::SessionTable(ProbeIo& io, SchedulerOptions options, SessionTableObserver observer)
    : io_(io), scheduler_(options), observer_(std::move(observer)), tick_(io.timers) {}

SessionTable::~SessionTable() { stop(); }

void SessionTable::add(std::shared_ptr<const ProbeTarget> target) {
  removeSession(target->target.id);
  const std::uint64_t key =
      scheduler_.add(target->target.id, target->target.interval, io_.timers.now());
  // The key views the target's id, which lives as long as the session that holds the target.
  const std::string_view id = target->target.id;
  auto [it, added] = sessions_.try_emplace(id, std::move(target), key, outputs_);
  ++neverLaunched_;
  reportAwaiting();
  const std::uint32_t slot = Scheduler::slotOf(key);
  if (bySlot_.size() <= slot) bySlot_.resize(slot + 1, nullptr);
  bySlot_[slot] = &it->second;
  if (observer_.targets) observer_.targets(sessions_.size());
  if (running_) armTick();
}

void SessionTable::remove(const std::string& id) {
  if (removeSession(id)) reportAwaiting();
}

// The session goes, without reporting the count of targets awaiting their first run: add()
// replacing a session reports once, after the new one is counted.
bool SessionTable::removeSession(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  TargetSession& session = it->second;
  if (session.inFlight()) {
    --inflight_;
    if (observer_.inflight) observer_.inflight(inflight_);
  }
  if (!session.everStarted()) --neverLaunched_;
  session.retire();
  scheduler_.remove(session.scheduleKey());  // frees its in-flight capacity too
  bySlot_[Scheduler::slotOf(session.scheduleKey())] = nullptr;
  sessions_.erase(it);
  if (observer_.targets) observer_.targets(sessions_.size());
  if (running_) armTick();
  return true;
}

TargetDiff SessionTable::reconcile(const std::vector<std::shared_ptr<const ProbeTarget>>& targets) {
  std::vector<const Target*> before, after;
  for (const auto& [id, session] : sessions_) before.push_back(&session.target().target);
  std::map<std::string, const std::shared_ptr<const ProbeTarget>*> byId;
  for (const auto& target : targets) {
    after.push_back(&target->target);
    byId[target->target.id] = &target;
  }
  TargetDiff diff = diffTargets(before, after);
  for (const auto& id : diff.removed) remove(id);
  for (const auto& id : diff.changed) add(*byId.at(id));
  for (const auto& id : diff.added) add(*byId.at(id));
  shrinkToFit();
  return diff;
}

void SessionTable::shrinkToFit() {
  scheduler_.shrinkToFit();
  bySlot_.shrink_to_fit();
}

void SessionTable::start() {
  if (stopped_) return;
  running_ = true;
  shrinkToFit();  // the targets added one by one leave their vectors with room to spare
  if (!readySent_) {
    readySent_ = true;
    if (observer_.ready) observer_.ready();
  }
  armTick();
}

void SessionTable::noteFirstLaunch(TargetSession& session) {
  if (session.everStarted()) return;
  --neverLaunched_;
  reportAwaiting();
}

void SessionTable::reportAwaiting() {
  if (observer_.awaitingFirstRun) observer_.awaitingFirstRun(neverLaunched_);
}

void SessionTable::stop() {
  stopped_ = true;
  running_ = false;
  tick_.reset();
  once_.reset();
  for (auto& [id, session] : sessions_) session.cancelRun();
  inflight_ = 0;
}

void SessionTable::armTick() {
  if (!running_) return;
  const auto next = scheduler_.nextDeadline();
  if (!next) return;
  if (tick_.armed() && *next >= tick_.at()) return;  // already armed early enough
  tick_.arm(*next, [this] { tick(); });
}

void SessionTable::beginRun(TargetSession& session) {
  noteFirstLaunch(session);
  ++inflight_;
  if (observer_.inflight) observer_.inflight(inflight_);
}

void SessionTable::endRun() {
  --inflight_;
  if (observer_.inflight) observer_.inflight(inflight_);
}

void SessionTable::ScheduledRuns::runFinished(TargetSession& session) {
  table.endRun();
  table.scheduler_.complete(session.scheduleKey());
  table.armTick();  // capacity freed: waiting runs may start
}

void SessionTable::OnceRuns::runFinished(TargetSession&) {
  table.endRun();
  if (!table.once_) return;
  if (--table.once_->remaining == 0) table.finishOnce();
  else table.runNextOnce();
}

void SessionTable::tick() {
  const auto now = io_.timers.now();
  for (const DueRun& run : scheduler_.popDue(now)) {
    TargetSession* session = sessionOf(run.targetKey);
    if (!session) {
      scheduler_.complete(run.targetKey);
      continue;
    }
    if (observer_.lag) observer_.lag(std::chrono::duration<double>(now - run.due).count());
    beginRun(*session);
    session->startRun(io_, scheduledRuns_);
  }
  const std::uint64_t skipped = scheduler_.skippedRuns();
  if (skipped > skippedSeen_) {
    if (observer_.skipped) observer_.skipped(skipped - skippedSeen_);
    skippedSeen_ = skipped;
  }
  armTick();
}

void SessionTable::runOnce(std::function<void()> done) {
  once_ = std::make_unique<OnceRun>();
  for (const auto& [id, session] : sessions_) once_->queue.emplace_back(id);  // map: sorted
  once_->remaining = once_->queue.size();
  once_->done = std::move(done);
  if (once_->remaining == 0) {
    io_.timers.post([this] {
      if (once_) finishOnce();
    });
    return;
  }
  const std::size_t cap = std::max<std::size_t>(1, scheduler_.maxInflight());
  const std::size_t parallel = std::min(once_->queue.size(), cap);
  for (std::size_t i = 0; i < parallel; ++i) runNextOnce();
}

void SessionTable::runNextOnce() {
  while (once_ && !once_->queue.empty()) {
    const std::string id = once_->queue.front();
    once_->queue.pop_front();
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.inFlight()) {
      if (--once_->remaining == 0) return finishOnce();
      continue;
    }
    beginRun(it->second);
    it->second.startRun(io_, onceRuns_);
    return;
  }
}

void SessionTable::finishOnce() {
  auto done = std::move(once_->done);
  once_.reset();
  if (done) done();
}

std::vector<std::shared_ptr<const ProbeTarget>> SessionTable::targets() const {
  std::vector<std::shared_ptr<const ProbeTarget>> out;
  out.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) out.push_back(session.shared());
  return out;
}

}  // namespace envprobe
