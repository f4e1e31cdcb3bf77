#pragma once
// One probe target: a check applied to one hostname of a service in one environment (optionally
// pinned to one backend address). A value; its `id` is stable across restarts and reloads.
#include <memory>
#include <string>

#include "probe/base/core_types.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

struct Target {
  std::string id;  // stable: env/service/check/visibility/hostname[@backend]
  std::string env;
  Tier tier = Tier::NonProd;
  std::string service;
  std::string check;
  std::string hostname;
  Visibility visibility = Visibility::Internal;
  std::string backend;  // "host:port" the hostname is pinned to; empty = resolve the hostname
  std::string url;
  // The `instance` label of its series (before "@<address>"): the redacted URL, made unique
  // among the agent's targets by assignInstances (instance_label.hpp). Empty until assigned.
  std::string instance;
  int port = 0;  // the URL's port (explicit or the scheme's default)
  Duration interval{0};
  Duration timeout{0};
  AddressMode addressMode = AddressMode::First;
  std::shared_ptr<const HttpCheckSpec> http;
};

// The key of one series of a target (one per `address` label), shared by the probe series and
// the alert state so that removing one removes the other.
inline std::string seriesKey(const std::string& targetId, const std::string& address) {
  return targetId + '\n' + address;
}

// A URL fit to show (API, status page, `once`, --list-targets, failure details): user info and
// every query value (and bare query item) replaced by "<redacted>", so a token in a query string never leaks.
std::string redactedUrl(const std::string& url);

}  // namespace envprobe
