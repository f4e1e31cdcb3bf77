#include "probe/io/curl_driver.hpp"

#include <sys/epoll.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "probe/base/internal_errors.hpp"

namespace envprobe {

namespace {

struct Transfer {
  CurlDriver::Done done;
};

}  // namespace

CurlDriver::CurlDriver(EventLoop& loop) : loop_(loop) {
  static const CURLcode initialized = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)initialized;
  multi_ = curl_multi_init();
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlDriver::onSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlDriver::onTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // Probes open a fresh connection each time; a small cache keeps idle ones from piling up.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 64L);
}

CurlDriver::~CurlDriver() {
  abortAll();
  if (timer_) loop_.cancelTimer(timer_);
  curl_multi_cleanup(multi_);
}

void CurlDriver::abortAll() {
  const std::vector<CURL*> handles(attached_.begin(), attached_.end());
  for (CURL* easy : handles) abort(easy);
}

void CurlDriver::start(CURL* easy, Done done) {
  curl_easy_setopt(easy, CURLOPT_PRIVATE, new Transfer{std::move(done)});
  ++running_;
  attached_.insert(easy);
  const CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    attached_.erase(easy);
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    std::unique_ptr<Transfer> transfer(reinterpret_cast<Transfer*>(priv));
    curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
    --running_;
    loop_.post([done = std::move(transfer->done)] { done(CURLE_FAILED_INIT); });
  }
}

void CurlDriver::abort(CURL* easy) {
  char* priv = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  if (!priv) return;
  curl_multi_remove_handle(multi_, easy);
  attached_.erase(easy);
  delete reinterpret_cast<Transfer*>(priv);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
  --running_;
}

int CurlDriver::onSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                         void* /*socketp*/) {
  auto* self = static_cast<CurlDriver*>(userp);
  if (what == CURL_POLL_REMOVE) {
    self->loop_.unwatchFd(fd);
    return 0;
  }
  std::uint32_t events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
  self->loop_.watchFd(fd, events, [self, fd](std::uint32_t ev) {
    int mask = 0;
    if (ev & EPOLLIN) mask |= CURL_CSELECT_IN;
    if (ev & EPOLLOUT) mask |= CURL_CSELECT_OUT;
    if (ev & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
    self->socketAction(fd, mask);
  });
  return 0;
}

int CurlDriver::onTimer(CURLM* /*multi*/, long timeoutMs, void* userp) {
  auto* self = static_cast<CurlDriver*>(userp);
  if (self->timer_) {
    self->loop_.cancelTimer(self->timer_);
    self->timer_ = 0;
  }
  if (timeoutMs < 0) return 0;
  self->timer_ = self->loop_.addTimer(self->loop_.now() + std::chrono::milliseconds(timeoutMs),
                                      [self] {
                                        self->timer_ = 0;
                                        self->socketAction(CURL_SOCKET_TIMEOUT, 0);
                                      });
  return 0;
}

void CurlDriver::socketAction(curl_socket_t fd, int mask) {
  int stillRunning = 0;
  curl_multi_socket_action(multi_, fd, mask, &stillRunning);
  drainFinished();
}

void CurlDriver::drainFinished() {
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    curl_multi_remove_handle(multi_, easy);
    attached_.erase(easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
    --running_;
    std::unique_ptr<Transfer> transfer(reinterpret_cast<Transfer*>(priv));
    if (transfer) guarded("curl completion", [&] { transfer->done(result); });
  }
}

}  // namespace envprobe
