#include "probe/metrics/ip_facts.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace envprobe {

std::uint32_t fnv32a(std::string_view bytes) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char b : bytes) {
    hash ^= b;
    hash *= 16777619u;
  }
  return hash;
}

std::optional<IpFacts> ipFacts(const std::string& address) {
  std::string text = address;
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1)
    return IpFacts{4, fnv32a(std::string_view(reinterpret_cast<char*>(bytes), 4))};
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    // Go takes an IPv4-mapped IPv6 address (::ffff:a.b.c.d) for the IPv4 one (ip.To4()).
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0)
      return IpFacts{4, fnv32a(std::string_view(reinterpret_cast<char*>(bytes) + 12, 4))};
    return IpFacts{6, fnv32a(std::string_view(reinterpret_cast<char*>(bytes), 16))};
  }
  return std::nullopt;
}

}  // namespace envprobe
