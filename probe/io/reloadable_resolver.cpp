#include "probe/io/reloadable_resolver.hpp"

#include <algorithm>

namespace envprobe {

ReloadableResolver::ReloadableResolver(EventLoop& loop, const DnsSettings& settings)
    : loop_(loop),
      settings_(settings),
      current_(std::make_unique<Channel>(loop, settings)),
      retired_(std::make_shared<Retired>()) {}

ReloadableResolver::~ReloadableResolver() = default;

Resolver::QueryId ReloadableResolver::resolve(const std::string& hostname,
                                              std::function<void(DnsAnswer)> done) {
  const QueryId id = nextId_++;
  Channel* channel = current_.get();
  ++channel->pending;
  queries_[id] = Query{channel, 0};
  queries_[id].inner = channel->resolver.resolve(
      hostname, [this, id, done = std::move(done)](DnsAnswer answer) {
        const auto it = queries_.find(id);
        if (it == queries_.end()) return;  // cancelled
        Channel* from = it->second.channel;
        queries_.erase(it);
        finished(from);
        done(std::move(answer));
      });
  return id;
}

void ReloadableResolver::cancel(QueryId id) {
  const auto it = queries_.find(id);
  if (it == queries_.end()) return;
  Channel* channel = it->second.channel;
  channel->resolver.cancel(it->second.inner);
  queries_.erase(it);
  finished(channel);
}

void ReloadableResolver::cancelAll() {
  for (auto& [id, query] : queries_) query.channel->resolver.cancel(query.inner);
  queries_.clear();
  current_->pending = 0;
  for (auto& channel : draining_) channel->pending = 0;
  finished(nullptr);
}

void ReloadableResolver::reconfigure(const DnsSettings& settings) {
  if (settings == settings_) return;
  auto next = std::make_unique<Channel>(loop_, settings);  // throws: nothing changed
  draining_.push_back(std::move(current_));
  current_ = std::move(next);
  settings_ = settings;
  finished(nullptr);
}

void ReloadableResolver::finished(Channel* channel) {
  if (channel && channel->pending > 0) --channel->pending;
  // A drained channel goes, but never from inside its own callback: destroy it on the loop.
  auto idle = std::stable_partition(draining_.begin(), draining_.end(),
                                    [](const auto& c) { return c->pending > 0; });
  if (idle == draining_.end()) return;
  retired_->insert(retired_->end(), std::make_move_iterator(idle),
                   std::make_move_iterator(draining_.end()));
  draining_.erase(idle, draining_.end());
  // If the resolver goes first, the retired channels go with it.
  loop_.post([weak = std::weak_ptr<Retired>(retired_)] {
    if (auto retired = weak.lock()) retired->clear();
  });
}

}  // namespace envprobe
