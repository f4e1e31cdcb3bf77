#include "probe/io/dns_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/epoll.h>

#include <stdexcept>

#include "probe/base/internal_errors.hpp"

namespace envprobe {

// Owned by c-ares from ares_getaddrinfo until its callback; `done` is emptied on cancel.
struct DnsResolver::Query {
  DnsResolver* resolver;
  QueryId id;
  std::function<void(DnsAnswer)> done;
  EventLoop::TimePoint started;
  std::string hostname;
  bool inResolve = true;  // the callback ran synchronously inside ares_getaddrinfo
};

namespace {

TransportError classify(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return TransportError::DnsNxdomain;
    case ARES_ESERVFAIL: return TransportError::DnsServfail;
    case ARES_EREFUSED: return TransportError::DnsRefused;
    case ARES_ETIMEOUT: return TransportError::DnsTimeout;
    default: return TransportError::DnsOther;
  }
}

DnsAnswer answerFor(int status, ares_addrinfo* result, const std::string& hostname) {
  DnsAnswer answer;
  if (status == ARES_SUCCESS && result) {
    std::vector<std::string> v6;
    for (auto* node = result->nodes; node; node = node->ai_next) {
      char text[INET6_ADDRSTRLEN] = {0};
      if (node->ai_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text,
                  sizeof text);
        answer.addresses.emplace_back(text);
      } else if (node->ai_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text,
                  sizeof text);
        v6.emplace_back(text);
      }
    }
    answer.addresses.insert(answer.addresses.end(), v6.begin(), v6.end());
    if (answer.addresses.empty()) {
      answer.error = TransportError::DnsOther;
      answer.detail = "no addresses for " + hostname;
    }
  } else if (status == ARES_ENODATA) {
    answer.error = TransportError::DnsOther;
    answer.detail = "resolving " + hostname + ": no A or AAAA records";
  } else {
    answer.error = classify(status);
    answer.detail = "resolving " + hostname + ": " + ares_strerror(status);
  }
  return answer;
}

}  // namespace

void DnsResolver::onAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  DnsResolver* self = query->resolver;
  if (!query->done || self->destroying_) {  // cancelled, or the agent is going away
    if (result) ares_freeaddrinfo(result);
    return;
  }
  self->queries_.erase(query->id);
  DnsAnswer answer = answerFor(status, result, query->hostname);
  if (result) ares_freeaddrinfo(result);
  answer.seconds =
      std::chrono::duration<double>(EventLoop::Clock::now() - query->started).count();
  if (query->inResolve) {
    // Never call back from inside resolve(): the caller may not be ready for it.
    self->loop_.post([done = std::move(query->done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
    return;
  }
  guarded("dns callback", [&] { query->done(std::move(answer)); });
}

DnsResolver::DnsResolver(EventLoop& loop, const DnsSettings& settings)
    : loop_(loop), timer_(loop) {
  static const int initialized = ares_library_init(ARES_LIB_INIT_ALL);
  (void)initialized;
  ares_options options{};
  options.sock_state_cb = &DnsResolver::onSockState;
  options.sock_state_cb_data = this;
  options.timeout = static_cast<int>(settings.timeout.count());
  options.tries = settings.tries;
  // NOCHECKRESP: hand SERVFAIL and REFUSED answers to us instead of treating the server as
  // unreachable, so a probe can say dns_servfail / dns_refused rather than "could not contact".
  options.flags = ARES_FLAG_NOCHECKRESP;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  if (const int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS)
    throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(rc));
  if (!settings.servers.empty()) {
    std::string csv;
    for (const auto& s : settings.servers) csv += (csv.empty() ? "" : ",") + s;
    if (const int rc = ares_set_servers_ports_csv(channel_, csv.c_str()); rc != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("dns.servers \"" + csv + "\": " + ares_strerror(rc));
    }
  }
}

DnsResolver::~DnsResolver() {
  destroying_ = true;
  timer_.reset();
  queries_.clear();
  ares_destroy(channel_);  // pending queries complete with ARES_EDESTRUCTION, into nothing
}

Resolver::QueryId DnsResolver::resolve(const std::string& hostname,
                                       std::function<void(DnsAnswer)> done) {
  const QueryId id = nextId_++;
  auto* query = new Query{this, id, std::move(done), EventLoop::Clock::now(), hostname};
  queries_.emplace(id, query);
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_, hostname.c_str(), nullptr, &hints, &DnsResolver::onAddrInfo, query);
  // `query` may be gone now (answered synchronously); only touch it through the map.
  if (auto it = queries_.find(id); it != queries_.end()) it->second->inResolve = false;
  rearmTimer();
  return id;
}

void DnsResolver::cancel(QueryId id) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return;
  it->second->done = nullptr;  // c-ares still owns the query; its answer is dropped
  queries_.erase(it);
}

void DnsResolver::cancelAll() {
  for (auto& [id, query] : queries_) query->done = nullptr;
  queries_.clear();
}

void DnsResolver::onSockState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<DnsResolver*>(data);
  if (!readable && !writable) {
    self->loop_.unwatchFd(fd);
    return;
  }
  if (self->destroying_) return;
  std::uint32_t events = 0;
  if (readable) events |= EPOLLIN;
  if (writable) events |= EPOLLOUT;
  self->loop_.watchFd(fd, events, [self, fd](std::uint32_t ev) { self->processFd(fd, ev); });
}

void DnsResolver::processFd(int fd, std::uint32_t events) {
  const bool in = events & (EPOLLIN | EPOLLERR | EPOLLHUP);
  const bool out = events & EPOLLOUT;
  ares_process_fd(channel_, in ? fd : ARES_SOCKET_BAD, out ? fd : ARES_SOCKET_BAD);
  rearmTimer();
}

void DnsResolver::rearmTimer() {
  timer_.reset();
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) return;  // nothing pending
  const auto when = loop_.now() + std::chrono::seconds(tv.tv_sec) +
                    std::chrono::microseconds(tv.tv_usec);
  timer_.arm(when, [this] {
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearmTimer();
  });
}

}  // namespace envprobe
