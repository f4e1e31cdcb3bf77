#pragma once
// The seam between the engine and time: the event loop implements it in production, a manual
// clock in the unit tests, so sessions, probe runs and alert routing run in simulated time.
#include <chrono>
#include <cstdint>
#include <functional>

namespace envprobe {

class Timers {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  using TimerId = std::uint64_t;  // never 0

  virtual ~Timers() = default;
  virtual TimePoint now() const = 0;
  // Runs `callback` on the loop at or after `when` (never before). A `when` that has passed
  // runs soon, after the callback being dispatched returns.
  virtual TimerId addTimer(TimePoint when, std::function<void()> callback) = 0;
  // Cancelling a timer that ran or was cancelled is a no-op.
  virtual void cancelTimer(TimerId id) = 0;
  // Runs `task` on the loop soon (thread-safe in production).
  virtual void post(std::function<void()> task) = 0;
};

// One timer owned by its holder: cancelled on reset, re-arm and destruction. The callback is kept
// here, so arming hands the loop a callback small enough to be stored without an allocation.
class OwnedTimer {
 public:
  explicit OwnedTimer(Timers& timers) : timers_(timers) {}
  ~OwnedTimer() { reset(); }
  OwnedTimer(const OwnedTimer&) = delete;
  OwnedTimer& operator=(const OwnedTimer&) = delete;

  void arm(Timers::TimePoint when, std::function<void()> callback) {
    reset();
    at_ = when;
    callback_ = std::move(callback);
    id_ = timers_.addTimer(when, [this] {
      id_ = 0;
      // Moved out first: the callback may re-arm this timer, replacing callback_.
      auto callback = std::move(callback_);
      callback_ = nullptr;
      callback();
    });
  }
  void reset() {
    if (id_) timers_.cancelTimer(id_);
    id_ = 0;
    callback_ = nullptr;
  }
  bool armed() const { return id_ != 0; }
  Timers::TimePoint at() const { return at_; }

 private:
  Timers& timers_;
  Timers::TimerId id_ = 0;
  Timers::TimePoint at_{};
  std::function<void()> callback_;
};

}  // namespace envprobe
