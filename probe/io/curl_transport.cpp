#include "probe/io/curl_transport.hpp"

namespace envprobe {

CurlTransport::~CurlTransport() { cancelAll(); }

std::unique_ptr<HttpCheck> CurlTransport::takeCheck(const HttpRequest& request) {
  if (!idle_.empty()) {
    std::unique_ptr<HttpCheck> check = std::move(idle_.back());
    idle_.pop_back();
    check->prepare(request);
    return check;
  }
  ++checksMade_;
  return std::make_unique<HttpCheck>(request, &caStores_);
}

HttpTransport::TransferId CurlTransport::start(const HttpRequest& request,
                                               std::function<void(Observation)> done) {
  std::uint32_t index;
  if (!freeTransfers_.empty()) {
    index = freeTransfers_.back();
    freeTransfers_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(transfers_.size());
    transfers_.push_back(std::make_unique<Transfer>());
    transfers_.back()->owner = this;
    transfers_.back()->index = index;
  }
  Transfer& transfer = *transfers_[index];
  transfer.live = true;
  transfer.check = takeCheck(request);
  transfer.done = std::move(done);
  const TransferId id = (static_cast<TransferId>(transfer.generation) << 32) | index;
  curl_.start(transfer.check->handle(), transfer);
  return id;
}

void CurlTransport::complete(Transfer& transfer, CURLcode code) {
  Observation observation = transfer.check->finish(code);
  auto done = std::move(transfer.done);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(transfer.check));
  release(transfer);
  if (done) done(std::move(observation));
}

CurlTransport::Transfer* CurlTransport::find(TransferId id) {
  const auto index = static_cast<std::uint32_t>(id & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (index >= transfers_.size()) return nullptr;
  Transfer& transfer = *transfers_[index];
  if (!transfer.live || transfer.generation != generation) return nullptr;
  return &transfer;
}

void CurlTransport::release(Transfer& transfer) {
  transfer.live = false;
  transfer.check.reset();
  transfer.done = nullptr;
  if (++transfer.generation == 0) transfer.generation = 1;  // ids are never 0
  freeTransfers_.push_back(transfer.index);
}

void CurlTransport::cancel(TransferId id) {
  Transfer* transfer = find(id);
  if (!transfer) return;
  curl_.abort(transfer->check->handle());
  release(*transfer);  // the aborted handle is freed: only completed ones are pooled
}

void CurlTransport::cancelAll() {
  for (auto& transfer : transfers_) {
    if (!transfer->live) continue;
    curl_.abort(transfer->check->handle());
    release(*transfer);
  }
  idle_.clear();
}

}  // namespace envprobe
