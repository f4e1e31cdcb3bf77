#pragma once
// SIGTERM / SIGINT (stop) and SIGHUP (reload) delivered to the event loop through a signalfd. Construct it before any other
// thread starts, so that every thread inherits the blocked mask.
#include <functional>

#include "probe/io/event_loop.hpp"

namespace envprobe {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it starts later. Call it
// first thing in a command that will watch them, before any library starts a thread, or a
// signal may land on a thread that never reads it and take the default action.
void blockTerminationSignals();

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
