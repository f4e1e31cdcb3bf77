#pragma once
// HTTP basic authentication against bcrypt hashes (libxcrypt's crypt_r). bcrypt is slow on
// purpose, so a successful check is remembered for a while, keyed by a salted SHA-256 of the
// credentials and the hash they matched (never the password itself).
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace envprobe {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// The user and password of an `Authorization: Basic <base64>` header value; nullopt when it is
// missing, of another scheme, or malformed.
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view header);

// Whether `password` matches the bcrypt `hash` (a constant-time comparison of crypt_r's output).
bool bcryptMatches(const std::string& password, const std::string& hash);

class BasicAuth {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::seconds kCacheTtl{60};
  static constexpr std::size_t kCacheMax = 1024;

  // users: user -> bcrypt hash. `clock` is injectable so that the cache can be tested.
  explicit BasicAuth(std::map<std::string, std::string> users, Clock clock = nullptr);

  bool enabled() const { return !users_.empty(); }
  // Whether the Authorization header value (null when absent) names a user with the right
  // password. Thread-safe.
  bool allows(const char* authorization);
  // How many bcrypt computations ran (for tests of the cache).
  std::size_t bcryptRuns() const;

 private:
  using Key = std::array<unsigned char, 32>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  Key cacheKey(const BasicCredentials& credentials, const std::string& hash) const;

  std::map<std::string, std::string> users_;
  Clock clock_;
  std::array<unsigned char, 32> salt_{};
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::chrono::steady_clock::time_point, KeyHash> verified_;
  std::size_t bcryptRuns_ = 0;
};

}  // namespace envprobe
