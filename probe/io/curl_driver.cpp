#include "probe/io/curl_driver.hpp"

#include <sys/epoll.h>

#include <stdexcept>

#include "probe/base/internal_errors.hpp"

namespace envprobe {

namespace {

// A std::function completion as a Client; it deletes itself when told the transfer ended.
class FunctionClient : public CurlDriver::Client {
 public:
  explicit FunctionClient(CurlDriver::Done done) : done_(std::move(done)) {}
  void onCurlDone(CURLcode code) override {
    auto done = std::move(done_);
    delete this;
    if (done) done(code);
  }
  void onCurlAborted() override { delete this; }

 private:
  CurlDriver::Done done_;
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
  if (failedStartsTimer_) loop_.cancelTimer(failedStartsTimer_);
  curl_multi_cleanup(multi_);
}

void CurlDriver::abortAll() {
  while (!attached_.empty()) abort(attached_.back()->easy_);
}

void CurlDriver::start(CURL* easy, Done done) {
  start(easy, *new FunctionClient(std::move(done)));
}

void CurlDriver::start(CURL* easy, Client& client) {
  client.easy_ = easy;
  client.attachedIndex_ = attached_.size();
  client.failedStart_ = false;
  attached_.push_back(&client);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(&client));
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    // Reported later, as promised (the caller may not expect a completion inside start());
    // until then it counts as running, so abort() still reaches it.
    client.failedStart_ = true;
    failedStarts_.push_back(&client);
    if (!failedStartsTimer_)
      failedStartsTimer_ = loop_.addTimer(EventLoop::TimePoint::min(), [this] {
        failedStartsTimer_ = 0;
        reportFailedStarts();
      });
  }
}

void CurlDriver::reportFailedStarts() {
  // One at a time: a completion may abort another of them.
  while (!failedStarts_.empty()) {
    Client* client = failedStarts_.front();
    failedStarts_.erase(failedStarts_.begin());
    detach(client->easy_);
    guarded("curl completion", [&] { client->onCurlDone(CURLE_FAILED_INIT); });
  }
}

CurlDriver::Client* CurlDriver::detach(CURL* easy) {
  char* priv = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  auto* client = reinterpret_cast<Client*>(priv);
  if (!client) return nullptr;
  curl_easy_setopt(easy, CURLOPT_PRIVATE, nullptr);
  // Swap-remove from attached_.
  const std::size_t index = client->attachedIndex_;
  if (index < attached_.size() && attached_[index] == client) {
    attached_[index] = attached_.back();
    attached_[index]->attachedIndex_ = index;
    attached_.pop_back();
  }
  return client;
}

void CurlDriver::abort(CURL* easy) {
  char* priv = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  if (!priv) return;
  curl_multi_remove_handle(multi_, easy);  // also fine for a handle curl refused
  Client* client = detach(easy);
  if (!client) return;
  if (client->failedStart_) std::erase(failedStarts_, client);
  client->onCurlAborted();
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
  if (timeoutMs == 0 && self->timer_ && self->timerIsNow_) return 0;  // already coming
  if (self->timer_) {
    self->loop_.cancelTimer(self->timer_);
    self->timer_ = 0;
  }
  self->timerIsNow_ = false;
  if (timeoutMs < 0) return 0;
  // A due time of now runs after the current dispatch, with no timer system call (event_loop.hpp).
  const auto when = timeoutMs == 0 ? EventLoop::TimePoint::min()
                                   : self->loop_.now() + std::chrono::milliseconds(timeoutMs);
  self->timerIsNow_ = timeoutMs == 0;
  self->timer_ = self->loop_.addTimer(when, [self] {
    self->timer_ = 0;
    self->timerIsNow_ = false;
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
    curl_multi_remove_handle(multi_, easy);
    if (Client* client = detach(easy))
      guarded("curl completion", [&] { client->onCurlDone(result); });
  }
}

}  // namespace envprobe
