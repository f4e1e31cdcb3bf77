#pragma once
// probe_ip_protocol and probe_ip_addr_hash as blackbox_exporter computes them for the address it
// probed: 4 or 6, and FNV-1a (32 bit) over the address's bytes (4 for IPv4, 16 for IPv6), so a
// dashboard sees when a name starts resolving elsewhere.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace envprobe {

struct IpFacts {
  int protocol = 0;        // 4 or 6
  std::uint32_t hash = 0;  // fnv32a of the address bytes
};

// The facts of an IP literal ("10.0.0.1", "fd00::1", "[fd00::1]"); nothing for anything else
// (a hostname, an empty string).
std::optional<IpFacts> ipFacts(const std::string& address);

// FNV-1a, 32 bit (Go's hash/fnv New32a).
std::uint32_t fnv32a(std::string_view bytes);

}  // namespace envprobe
