#pragma once
// One thread's event loop: epoll for file descriptors, a timer heap for all timers, one eventfd
// for work posted from other threads. Everything that touches curl, c-ares or the scheduler runs
// on the thread that calls run().
//
// Timers cost no system call of their own: the loop sleeps in epoll_pwait2 until the earliest
// deadline (the thread's timer slack, set to kTimerSlack while it runs, lets the kernel batch
// wake-ups; a timer runs at most that late, never early). Where epoll_pwait2 is missing (kernels
// before 5.11, or a seccomp filter that refuses it) one timerfd carries the earliest deadline; it
// is re-armed only when that deadline moves earlier or after it expired. A timer whose time has
// already come (curl's "call me now") never touches either: it runs once the callbacks being
// dispatched return, and the loop polls its descriptors without sleeping before running it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "probe/io/timer_heap.hpp"
#include "probe/io/timers.hpp"

struct epoll_event;

namespace envprobe {

//
// Every callback runs inside a catch-log-continue boundary: an exception escaping a timer, fd or
// posted task is logged and counted (envprobe_internal_errors_total), never fatal.
class EventLoop : public Timers {
 public:
  using FdCallback = std::function<void(std::uint32_t events)>;
  enum class TimerMode { Auto, TimerFd };
  static constexpr std::chrono::microseconds kTimerSlack{500};

  explicit EventLoop(TimerMode mode = TimerMode::Auto);
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

  // For tests: whether the timerfd carries the deadlines, and how often it was set.
  bool usesTimerFd() const { return useTimerFd_; }
  std::uint64_t timerFdArms() const { return timerFdArms_; }

 private:
  int waitForEvents(::epoll_event* events, int capacity);
  void armTimerFd(TimePoint when);
  void runDueTimers();
  void drainPosted();

  struct Watch {
    FdCallback callback;
    bool watched = false;
    std::uint64_t unwatchedInBatch = 0;  // the batch of events during which it was unwatched
  };

  int epollFd_ = -1;
  int timerFd_ = -1;
  int wakeFd_ = -1;
  bool useTimerFd_ = false;
  bool running_ = false;
  std::vector<Watch> fds_;  // by fd
  std::uint64_t batch_ = 0;  // counts the batches of events epoll returned
  TimerHeap timers_;
  TimePoint armedFor_ = TimePoint::max();  // the timerfd's expiry, max when disarmed
  std::uint64_t timerFdArms_ = 0;
  std::mutex postedMutex_;
  std::vector<std::function<void()>> posted_;  // guarded by postedMutex_
  std::vector<std::function<void()>> draining_;
  bool stopRequested_ = false;  // guarded by postedMutex_
};

}  // namespace envprobe
