#include "probe/io/signal_watcher.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace envprobe {

namespace {

sigset_t terminationSignals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  return mask;
}

}  // namespace

void blockTerminationSignals() {
  const sigset_t mask = terminationSignals();
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::function<void(int)> onSignal) : loop_(loop) {
  blockTerminationSignals();
  const sigset_t mask = terminationSignals();
  fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  loop_.watchFd(fd_, EPOLLIN, [this, onSignal = std::move(onSignal)](std::uint32_t) {
    signalfd_siginfo info{};
    while (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      onSignal(static_cast<int>(info.ssi_signo));
  });
}

SignalWatcher::~SignalWatcher() {
  loop_.unwatchFd(fd_);
  close(fd_);
}

}  // namespace envprobe
