#pragma once
// HttpTransport over the curl multi driver: one HttpCheck (easy handle) per hop, owned here
// until it completes or is cancelled. HTTPS probes share the CA stores kept here (ca_store.hpp).
// A check that completed goes back to a pool of idle ones and serves a later probe (of any
// target; HttpCheck::prepare sets it up anew), so a probe costs no easy handle of its own. The
// pool holds at most kMaxIdle checks, so a burst of probes does not keep its handles; a check
// whose transfer was cancelled is freed, not pooled.
#include <cstdint>
#include <memory>
#include <vector>

#include "probe/io/ca_store.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/http_check.hpp"
#include "probe/io/ports.hpp"

namespace envprobe {

class CurlTransport : public HttpTransport {
 public:
  static constexpr std::size_t kMaxIdle = 64;

  CurlTransport(EventLoop& loop, CurlDriver& curl) : loop_(loop), curl_(curl) {}
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  TransferId start(const HttpRequest& request, std::function<void(Observation)> done) override;
  void cancel(TransferId id) override;
  void cancelAll();

  std::size_t idleChecks() const { return idle_.size(); }  // for tests
  std::size_t checksMade() const { return checksMade_; }   // for tests

 private:
  // One transfer in flight; slots are reused, and an id carries its slot's generation.
  struct Transfer : CurlDriver::Client {
    CurlTransport* owner = nullptr;
    std::uint32_t index = 0;
    std::uint32_t generation = 1;
    bool live = false;
    std::unique_ptr<HttpCheck> check;
    std::function<void(Observation)> done;
    void onCurlDone(CURLcode code) override { owner->complete(*this, code); }
  };

  void complete(Transfer& transfer, CURLcode code);
  Transfer* find(TransferId id);
  void release(Transfer& transfer);
  std::unique_ptr<HttpCheck> takeCheck(const HttpRequest& request);

  EventLoop& loop_;
  CurlDriver& curl_;
  CaStores caStores_;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<std::uint32_t> freeTransfers_;
  std::vector<std::unique_ptr<HttpCheck>> idle_;
  std::size_t checksMade_ = 0;
};

}  // namespace envprobe
