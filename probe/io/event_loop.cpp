#include "probe/io/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
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

timespec toTimespec(std::chrono::nanoseconds ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  return ts;
}

bool epollPwait2Works(int epollFd) {
  epoll_event event{};
  const timespec zero{};
  return epoll_pwait2(epollFd, &event, 1, &zero, nullptr) >= 0 || errno != ENOSYS;
}

}  // namespace

EventLoop::EventLoop(TimerMode mode) {
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
  useTimerFd_ = mode == TimerMode::TimerFd || !epollPwait2Works(epollFd_);
}

EventLoop::~EventLoop() {
  for (int fd : {epollFd_, timerFd_, wakeFd_})
    if (fd >= 0) close(fd);
}

void EventLoop::watchFd(int fd, std::uint32_t events, FdCallback callback) {
  if (fd < 0) throw std::runtime_error("watchFd: negative file descriptor");
  if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  Watch& watch = fds_[static_cast<std::size_t>(fd)];
  const bool known = watch.watched;
  watch.callback = std::move(callback);
  watch.watched = true;
  if (epoll_ctl(epollFd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0) return;
  // Known but gone: the fd was closed and reused behind our back. Unknown but there: it was
  // unwatched without being closed (see unwatchFd).
  check(epoll_ctl(epollFd_, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev), "epoll_ctl");
}

// The fd is left in the epoll set: nearly always it is closed next, which removes it (a socket
// curl is done with), and the system call is saved. One that stays open is removed when it next
// reports an event (run()).
void EventLoop::unwatchFd(int fd) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
  Watch& watch = fds_[static_cast<std::size_t>(fd)];
  if (!watch.watched) return;
  watch.watched = false;
  watch.callback = nullptr;
  watch.unwatchedInBatch = batch_;
}

EventLoop::TimerId EventLoop::addTimer(TimePoint when, std::function<void()> callback) {
  return timers_.add(when, std::move(callback));
}

void EventLoop::cancelTimer(TimerId id) { timers_.cancel(id); }

void EventLoop::armTimerFd(TimePoint when) {
  armedFor_ = when;
  ++timerFdArms_;
  itimerspec spec{};
  // steady_clock is CLOCK_MONOTONIC: an absolute expiry needs no clock read here.
  spec.it_value = toTimespec(when.time_since_epoch());
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  timerfd_settime(timerFd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

int EventLoop::waitForEvents(epoll_event* events, int capacity) {
  if (timers_.empty()) return epoll_wait(epollFd_, events, capacity, -1);
  const TimePoint earliest = timers_.earliest();
  const TimePoint now = Clock::now();
  if (earliest <= now) return epoll_wait(epollFd_, events, capacity, 0);  // due: poll only
  if (!useTimerFd_) {
    const timespec timeout = toTimespec(earliest - now);
    return epoll_pwait2(epollFd_, events, capacity, &timeout, nullptr);
  }
  // Armed for an earlier time (a timer since cancelled): that wake-up re-arms, not this one.
  if (earliest < armedFor_) armTimerFd(earliest);
  return epoll_wait(epollFd_, events, capacity, -1);
}

void EventLoop::runDueTimers() {
  if (timers_.empty()) return;
  // Timers a callback adds wait for the next pass: the loop polls its descriptors in between.
  const std::uint64_t pass = timers_.beginPass();
  const TimePoint now = Clock::now();
  while (timers_.topDue(now, pass)) {
    std::function<void()> callback = timers_.popTop();
    guarded("event loop timer", callback);
  }
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
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    draining_.swap(posted_);  // both keep their capacity
    if (stopRequested_) running_ = false;
  }
  for (auto& task : draining_) guarded("event loop task", task);
  draining_.clear();
}

void EventLoop::run() {
  running_ = true;
  {
    std::lock_guard<std::mutex> lock(postedMutex_);
    if (stopRequested_) running_ = false;
  }
  // This thread's timer slack bounds how late the kernel may end a timed wait.
  const int previousSlack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  prctl(PR_SET_TIMERSLACK,
        static_cast<unsigned long>(std::chrono::nanoseconds(kTimerSlack).count()), 0, 0, 0);
  epoll_event events[256];
  while (running_) {
    const int n = waitForEvents(events, 256);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    ++batch_;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == timerFd_) {
        std::uint64_t expirations = 0;
        [[maybe_unused]] auto r = read(timerFd_, &expirations, sizeof expirations);
        armedFor_ = TimePoint::max();
      } else if (fd == wakeFd_) {
        drainPosted();
      } else if (fd >= 0 && static_cast<std::size_t>(fd) < fds_.size() &&
                 fds_[static_cast<std::size_t>(fd)].watched) {
        // A copy: the callback may unwatch or re-watch its own fd.
        FdCallback callback = fds_[static_cast<std::size_t>(fd)].callback;
        const std::uint32_t ready = events[i].events;
        guarded("event loop fd", [&] { callback(ready); });
      } else if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size() ||
                 fds_[static_cast<std::size_t>(fd)].unwatchedInBatch != batch_) {
        epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);  // unwatched and still open
      }
      // Unwatched by a callback of this batch: nearly always closed since (curl closes the socket
      // it is done with), which removed it. One still open reports again and is removed then.
    }
    runDueTimers();
  }
  if (previousSlack > 0) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previousSlack), 0, 0, 0);
  // A stop ends this run only: the shutdown sequence runs the loop again to flush alerts.
  std::lock_guard<std::mutex> lock(postedMutex_);
  stopRequested_ = false;
}

}  // namespace envprobe
