#pragma once
// HttpTransport over the curl multi driver: one HttpCheck (easy handle) per hop, owned here
// until it completes or is cancelled. HTTPS probes share the CA stores kept here (ca_store.hpp).
#include <memory>
#include <unordered_map>

#include "probe/io/ca_store.hpp"
#include "probe/io/curl_driver.hpp"
#include "probe/io/http_check.hpp"
#include "probe/io/ports.hpp"

namespace envprobe {

class CurlTransport : public HttpTransport {
 public:
  CurlTransport(EventLoop& loop, CurlDriver& curl) : loop_(loop), curl_(curl) {}
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  TransferId start(const HttpRequest& request, std::function<void(Observation)> done) override;
  void cancel(TransferId id) override;
  void cancelAll();

 private:
  EventLoop& loop_;
  CurlDriver& curl_;
  CaStores caStores_;
  TransferId nextId_ = 1;
  std::unordered_map<TransferId, std::unique_ptr<HttpCheck>> transfers_;
};

}  // namespace envprobe
