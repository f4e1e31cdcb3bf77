#pragma once
// The environment's resolver, whose settings (servers, timeout, tries) a config reload may
// change while queries are in flight. Queries started before a change finish on the channel
// they started on; that channel goes once its last query has answered or been cancelled.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe/config/config_model.hpp"
#include "probe/io/dns_resolver.hpp"
#include "probe/io/event_loop.hpp"
#include "probe/io/ports.hpp"

namespace envprobe {

class ReloadableResolver : public Resolver {
 public:
  // Throws std::runtime_error when the channel cannot be set up (bad server list).
  ReloadableResolver(EventLoop& loop, const DnsSettings& settings);
  ~ReloadableResolver() override;
  ReloadableResolver(const ReloadableResolver&) = delete;
  ReloadableResolver& operator=(const ReloadableResolver&) = delete;

  QueryId resolve(const std::string& hostname, std::function<void(DnsAnswer)> done) override;
  void cancel(QueryId id) override;
  void cancelAll();

  // New queries use `settings` from now on. Throws std::runtime_error (and keeps the current
  // settings) when the new channel cannot be set up. Equal settings change nothing.
  void reconfigure(const DnsSettings& settings);

 private:
  struct Channel {
    Channel(EventLoop& loop, const DnsSettings& settings) : resolver(loop, settings) {}
    DnsResolver resolver;
    std::size_t pending = 0;
  };
  struct Query {
    Channel* channel;
    QueryId inner;
  };
  void finished(Channel* channel);

  EventLoop& loop_;
  DnsSettings settings_;
  std::unique_ptr<Channel> current_;
  std::vector<std::unique_ptr<Channel>> draining_;  // old settings, queries still pending
  using Retired = std::vector<std::unique_ptr<Channel>>;
  std::shared_ptr<Retired> retired_;  // drained, destroyed on the loop soon
  std::unordered_map<QueryId, Query> queries_;
  QueryId nextId_ = 1;
};

}  // namespace envprobe
