#include "probe/io/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "probe/base/internal_errors.hpp"

namespace envprobe {

namespace {

void check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

EventLoop::EventLoop() {
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  check(epollFd_, "epoll_create1");
  timerFd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  check(timerFd_, "timerfd_create");
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  check(wakeFd_, "eventfd");
  for (int fd : {timerFd_, wakeFd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    check(epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
  }
}

EventLoop::~EventLoop() {
  for (int fd : {epollFd_, timerFd_, wakeFd_})
    if (fd >= 0) close(fd);
}

void EventLoop::watchFd(int fd, std::uint32_t events, FdCallback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  const bool known = fds_.count(fd) > 0;
  fds_[fd] = std::move(callback);
  if (epoll_ctl(epollFd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
    // The fd may have been closed and reused behind our back; re-add from scratch.
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
    check(epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl add");
  }
}

void EventLoop::unwatchFd(int fd) {
  if (fds_.erase(fd) > 0) epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::addTimer(TimePoint when, std::function<void()> callback) {
  const TimerId id = nextTimerId_++;
  timers_.emplace(id, std::make_pair(when, std::move(callback)));
  timersByTime_.emplace(when, id);
  if (when < armedFor_) armTimerFd();
  return id;
}

void EventLoop::cancelTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = timersByTime_.equal_range(it->second.first);
  for (auto t = range.first; t != range.second; ++t) {
    if (t->second == id) {
      timersByTime_.erase(t);
      break;
    }
  }
  timers_.erase(it);
}

void EventLoop::armTimerFd() {
  itimerspec spec{};
  if (timersByTime_.empty()) {
    armedFor_ = TimePoint::max();
  } else {
    armedFor_ = timersByTime_.begin()->first;
    auto delay = armedFor_ - Clock::now();
    if (delay < std::chrono::microseconds(1)) delay = std::chrono::microseconds(1);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
    spec.it_value.tv_sec = ns / 1'000'000'000;
    spec.it_value.tv_nsec = ns % 1'000'000'000;
  }
  timerfd_settime(timerFd_, 0, &spec, nullptr);
}

void EventLoop::runDueTimers() {
  const TimePoint now = Clock::now();
  // Collect first: callbacks may add or cancel timers.
  std::vector<TimerId> due;
  for (auto it = timersByTime_.begin(); it != timersByTime_.end() && it->first <= now; ++it)
    due.push_back(it->second);
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    auto callback = std::move(it->second.second);
    cancelTimer(id);
    guarded("event loop timer", callback);
  }
  armTimerFd();
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wakeFd_, &one, sizeof one);
}

void EventLoop::stop() {
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    stopRequested_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = write(wakeFd_, &one, sizeof one);
}

void EventLoop::drainPosted() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = read(wakeFd_, &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    tasks.swap(posted_);
    if (stopRequested_) running_ = false;
  }
  for (auto& task : tasks) guarded("event loop task", task);
}

void EventLoop::run() {
  running_ = true;
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    if (stopRequested_) running_ = false;
  }
  epoll_event events[256];
  while (running_) {
    const int n = epoll_wait(epollFd_, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == timerFd_) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = read(timerFd_, &expirations, sizeof expirations);
        armedFor_ = TimePoint::max();
        runDueTimers();
      } else if (fd == wakeFd_) {
        drainPosted();
      } else if (auto it = fds_.find(fd); it != fds_.end()) {
        auto callback = it->second;  // copy: the callback may unwatch its own fd
        const std::uint32_t ready = events[i].events;
        guarded("event loop fd", [&] { callback(ready); });
      }
    }
  }
  // A stop ends this run only: the shutdown sequence runs the loop again to flush alerts.
  std::lock_guard<std::mutex> lock(postedMutex_);
  stopRequested_ = false;
}

}  // namespace envprobe
