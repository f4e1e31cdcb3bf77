#pragma once
// One thread's event loop: epoll for file descriptors, one timerfd for all timers, one eventfd
// for work posted from other threads. Everything that touches curl, c-ares or the scheduler runs
// on the thread that calls run().
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "probe/io/timers.hpp"

namespace envprobe {

//
// Every callback runs inside a catch-log-continue boundary: an exception escaping a timer, fd or
// posted task is logged and counted (envprobe_internal_errors_total), never fatal.
class EventLoop : public Timers {
 public:
  using FdCallback = std::function<void(std::uint32_t events)>;

  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // events: EPOLLIN / EPOLLOUT bits. Re-watching an fd replaces its events and callback.
  void watchFd(int fd, std::uint32_t events, FdCallback callback);
  void unwatchFd(int fd);

  TimerId addTimer(TimePoint when, std::function<void()> callback) override;
  void cancelTimer(TimerId id) override;

  // Thread-safe: runs `task` on the loop thread soon.
  void post(std::function<void()> task) override;

  void run();   // until stop()
  void stop();  // thread-safe
  TimePoint now() const override { return Clock::now(); }

 private:
  void armTimerFd();
  void runDueTimers();
  void drainPosted();

  int epollFd_ = -1;
  int timerFd_ = -1;
  int wakeFd_ = -1;
  bool running_ = false;
  std::unordered_map<int, FdCallback> fds_;
  std::multimap<TimePoint, TimerId> timersByTime_;
  std::unordered_map<TimerId, std::pair<TimePoint, std::function<void()>>> timers_;
  TimerId nextTimerId_ = 1;
  TimePoint armedFor_ = TimePoint::max();
  std::mutex postedMutex_;
  std::vector<std::function<void()>> posted_;
  bool stopRequested_ = false;  // guarded by postedMutex_
};

}  // namespace envprobe
