#pragma once
// SIGTERM / SIGINT delivered to the event loop through a signalfd. Construct it before any other
// thread starts, so that every thread inherits the blocked mask.
#include <functional>

#include "probe/io/event_loop.hpp"

namespace envprobe {

class SignalWatcher {
 public:
  SignalWatcher(EventLoop& loop, std::function<void(int signal)> onSignal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  EventLoop& loop_;
  int fd_ = -1;
};

}  // namespace envprobe
