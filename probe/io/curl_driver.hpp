#pragma once
// libcurl's multi *socket* interface on the event loop: curl tells us which sockets and which
// timeout to watch; we tell curl what happened. Finished transfers are always drained from
// curl_multi_info_read.
#include <curl/curl.h>

#include <functional>
#include <unordered_set>

#include "probe/io/event_loop.hpp"

namespace envprobe {

class CurlDriver {
 public:
  using Done = std::function<void(CURLcode)>;

  explicit CurlDriver(EventLoop& loop);
  ~CurlDriver();
  CurlDriver(const CurlDriver&) = delete;
  CurlDriver& operator=(const CurlDriver&) = delete;

  // Starts a prepared easy handle. `done` runs on the loop once the transfer ends; the handle is
  // removed from the multi handle before that, so `done` may clean it up or reuse it.
  // CURLOPT_PRIVATE is used by the driver and must not be set by the caller.
  void start(CURL* easy, Done done);
  // Stops a running transfer without calling its `done`.
  void abort(CURL* easy);
  // Stops every running transfer without calling back (the shutdown sequence's cancel step).
  void abortAll();
  std::size_t running() const { return running_; }

 private:
  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int onTimer(CURLM* multi, long timeoutMs, void* userp);
  void socketAction(curl_socket_t fd, int mask);
  void drainFinished();

  EventLoop& loop_;
  CURLM* multi_ = nullptr;
  EventLoop::TimerId timer_ = 0;
  std::size_t running_ = 0;
  std::unordered_set<CURL*> attached_;  // never curl_multi_cleanup with handles attached
};

}  // namespace envprobe
