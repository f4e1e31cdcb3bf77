#pragma once
// One probe target: a check applied to one hostname of a service in one environment (optionally
// pinned to one backend address). A value; its `id` is stable across restarts and reloads.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "probe/base/core_types.hpp"
#include "probe/base/interned_string.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

struct Target {
  std::string id;  // stable: env/service/check/visibility/hostname[@backend]
  // Repeated by many targets: held once per distinct value.
  InternedString env;
  Tier tier = Tier::NonProd;
  InternedString service;
  InternedString check;
  std::string hostname;
  Visibility visibility = Visibility::Internal;
  InternedString backend;  // "host:port" the hostname is pinned to; empty = resolve the hostname
  std::string url;
  // The `instance` label of its series (before "@<address>"): the redacted URL, made unique
  // among the agent's targets by assignInstances (instance_label.hpp). Empty when that is the
  // URL itself (nothing to redact, nothing to tell apart: no second copy), and until assigned;
  // read it with instanceOf(). Interned: 8 bytes where it is empty.
  InternedString instance;
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

// A 64-bit hash of seriesKey(targetId, address) (FNV-1a), without building the key: for
// per-series state that can do without a copy of the key. Two of n series share a hash with a
// chance of about n^2 / 2^65 (3e-8 at a million series).
inline std::uint64_t fnv1a64(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}
inline constexpr std::uint64_t kFnv1a64Basis = 0xcbf29ce484222325ULL;
inline std::uint64_t seriesHash(std::string_view targetId, std::string_view address) {
  return fnv1a64(fnv1a64(fnv1a64(kFnv1a64Basis, targetId), "\n"), address);
}
// The same hash of a key already built (seriesHash(id, a) == seriesKeyHash(seriesKey(id, a))).
inline std::uint64_t seriesKeyHash(std::string_view key) { return fnv1a64(kFnv1a64Basis, key); }

// A URL fit to show (API, status page, `once`, --list-targets, failure details): user info and
// every query value (and bare query item) replaced by "<redacted>", so a token in a query string never leaks.
std::string redactedUrl(const std::string& url);

}  // namespace envprobe
