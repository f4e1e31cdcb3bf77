#include "probe/io/curl_transport.hpp"

namespace envprobe {

CurlTransport::~CurlTransport() { cancelAll(); }

HttpTransport::TransferId CurlTransport::start(const HttpRequest& request,
                                               std::function<void(Observation)> done) {
  const TransferId id = nextId_++;
  auto check = std::make_unique<HttpCheck>(request, &caStores_);
  CURL* easy = check->handle();
  transfers_.emplace(id, std::move(check));
  curl_.start(easy, [this, id, done = std::move(done)](CURLcode code) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) return;  // cancelled
    std::unique_ptr<HttpCheck> finished = std::move(it->second);
    transfers_.erase(it);
    done(finished->finish(code));
  });
  return id;
}

void CurlTransport::cancel(TransferId id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  curl_.abort(it->second->handle());
  transfers_.erase(it);
}

void CurlTransport::cancelAll() {
  for (auto& [id, check] : transfers_) curl_.abort(check->handle());
  transfers_.clear();
}

}  // namespace envprobe
