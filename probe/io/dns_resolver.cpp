#include "probe/io/dns_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/epoll.h>

#include <stdexcept>

namespace envprobe {

bool isIpLiteral(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

namespace {

struct Query {
  std::function<void(DnsAnswer)> done;
  EventLoop::TimePoint started;
  std::string hostname;
};

TransportError classify(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return TransportError::DnsNxdomain;
    case ARES_ESERVFAIL: return TransportError::DnsServfail;
    case ARES_ETIMEOUT: return TransportError::DnsTimeout;
    default: return TransportError::DnsOther;
  }
}

void onAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Query> query(static_cast<Query*>(arg));
  DnsAnswer answer;
  answer.seconds =
      std::chrono::duration<double>(EventLoop::Clock::now() - query->started).count();
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
      answer.detail = "no addresses for " + query->hostname;
    }
  } else if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    answer.error = TransportError::DnsOther;
    answer.detail = "resolver shut down";
  } else {
    answer.error = classify(status);
    answer.detail = "resolving " + query->hostname + ": " + ares_strerror(status);
  }
  if (result) ares_freeaddrinfo(result);
  query->done(std::move(answer));
}

}  // namespace

DnsResolver::DnsResolver(EventLoop& loop, const DnsSettings& settings) : loop_(loop) {
  static const int initialized = ares_library_init(ARES_LIB_INIT_ALL);
  (void)initialized;
  ares_options options{};
  options.sock_state_cb = &DnsResolver::onSockState;
  options.sock_state_cb_data = this;
  options.timeout = static_cast<int>(settings.timeout.count());
  options.tries = settings.tries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (const int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS)
    throw std::runtime_error(std::string("c-ares init: ") + ares_strerror(rc));
  if (!settings.servers.empty()) {
    std::string csv;
    for (const auto& s : settings.servers) csv += (csv.empty() ? "" : ",") + s;
    if (const int rc = ares_set_servers_ports_csv(channel_, csv.c_str()); rc != ARES_SUCCESS) {
      ares_destroy(channel_);
      throw std::runtime_error("dns.servers \"" + csv + "\": " + ares_strerror(rc));
    }
    servers_ = csv;
  } else {
    servers_ = "system resolv.conf";
  }
}

DnsResolver::~DnsResolver() {
  if (timer_) loop_.cancelTimer(timer_);
  ares_destroy(channel_);  // pending queries complete with ARES_EDESTRUCTION
}

std::string DnsResolver::serversDescription() const { return servers_; }

void DnsResolver::resolve(const std::string& hostname, std::function<void(DnsAnswer)> done) {
  auto* query = new Query{std::move(done), EventLoop::Clock::now(), hostname};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_, hostname.c_str(), nullptr, &hints, &onAddrInfo, query);
  rearmTimer();
}

void DnsResolver::onSockState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<DnsResolver*>(data);
  if (!readable && !writable) {
    self->loop_.unwatchFd(fd);
    return;
  }
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
  if (timer_) {
    loop_.cancelTimer(timer_);
    timer_ = 0;
  }
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) return;  // nothing pending
  const auto when = loop_.now() + std::chrono::seconds(tv.tv_sec) +
                    std::chrono::microseconds(tv.tv_usec);
  timer_ = loop_.addTimer(when, [this] {
    timer_ = 0;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearmTimer();
  });
}

}  // namespace envprobe
