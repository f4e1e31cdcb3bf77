#pragma once
// libcurl's multi *socket* interface on the event loop: curl tells us which sockets and which
// timeout to watch; we tell curl what happened. Finished transfers are always drained from
// curl_multi_info_read. When curl asks to be called at once (a 0 ms timeout, on every new
// transfer), the call is made after the callbacks being dispatched return, without a timer
// system call; repeated asks before it runs are one call.
#include <curl/curl.h>

#include <functional>
#include <vector>

#include "probe/io/event_loop.hpp"

namespace envprobe {

class CurlDriver {
 public:
  using Done = std::function<void(CURLcode)>;

  // What a transfer reports to: lives at least until it is told the transfer ended, or until it
  // aborts the transfer itself.
  class Client {
   public:
    virtual ~Client() = default;
    virtual void onCurlDone(CURLcode code) = 0;
    // The driver stopped the transfer without onCurlDone (abort, abortAll, a failed start).
    virtual void onCurlAborted() {}

   private:
    friend class CurlDriver;
    CURL* easy_ = nullptr;
    std::size_t attachedIndex_ = 0;
    bool failedStart_ = false;  // curl refused it: onCurlDone(CURLE_FAILED_INIT) is coming
  };

  explicit CurlDriver(EventLoop& loop);
  ~CurlDriver();
  CurlDriver(const CurlDriver&) = delete;
  CurlDriver& operator=(const CurlDriver&) = delete;

  // Starts a prepared easy handle. `done` runs on the loop once the transfer ends; the handle is
  // removed from the multi handle before that, so `done` may clean it up or reuse it.
  // CURLOPT_PRIVATE is used by the driver and must not be set by the caller.
  void start(CURL* easy, Done done);
  // The same, reporting to `client` (no allocation). A start that fails reports
  // CURLE_FAILED_INIT through onCurlDone, later, on the loop.
  void start(CURL* easy, Client& client);
  // Stops a running transfer without calling its `done` (nothing if it is not running).
  void abort(CURL* easy);
  // Stops every running transfer without calling back (the shutdown sequence's cancel step).
  void abortAll();
  std::size_t running() const { return attached_.size(); }

 private:
  static int onSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int onTimer(CURLM* multi, long timeoutMs, void* userp);
  void socketAction(curl_socket_t fd, int mask);
  void drainFinished();
  Client* detach(CURL* easy);
  void reportFailedStarts();

  EventLoop& loop_;
  CURLM* multi_ = nullptr;
  EventLoop::TimerId timer_ = 0;
  bool timerIsNow_ = false;  // timer_ is a 0 ms request not yet run
  std::vector<Client*> attached_;  // never curl_multi_cleanup with handles attached
  std::vector<Client*> failedStarts_;
  EventLoop::TimerId failedStartsTimer_ = 0;
};

}  // namespace envprobe
