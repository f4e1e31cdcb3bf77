#include "probe/web/basic_auth.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace envprobe {
namespace {

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> decodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      // Padding only at the end, at most two.
      if (in.size() - i > 2) return std::nullopt;
      for (std::size_t j = i; j < in.size(); ++j)
        if (in[j] != '=') return std::nullopt;
      break;
    }
    const int v = base64Value(in[i]);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

// A well-formed hash for unknown users, so that a wrong user name costs the same bcrypt run as a
// wrong password and response times do not tell which user names exist.
const std::string kDummyHash = "$2b$10$ILpBPo45UvId9vFxlVB/IOY8WWLEaArVii8QYsVCTm7YUdW9iIGsO";

}  // namespace

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view header) {
  constexpr std::string_view scheme = "basic";
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if ((header[i] | 0x20) != scheme[i]) return std::nullopt;
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  const auto decoded = decodeBase64(token);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool bcryptMatches(const std::string& password, const std::string& hash) {
  // crypt_data is ~32 KiB: keep it off the (small) server thread stacks.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  // On failure crypt_r returns null or a string starting with '*', never a valid hash.
  if (!out || out[0] == '*') return false;
  const std::size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

std::size_t BasicAuth::KeyHash::operator()(const Key& k) const {
  std::size_t h;
  std::memcpy(&h, k.data(), sizeof h);  // already a uniform cryptographic hash
  return h;
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, Clock clock)
    : users_(std::move(users)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1)
    throw std::runtime_error("basic auth: cannot get random bytes for the cache salt");
}

BasicAuth::Key BasicAuth::cacheKey(const BasicCredentials& c, const std::string& hash) const {
  // Length-prefixed fields so that ("ab", "c") and ("a", "bc") differ.
  std::string material(reinterpret_cast<const char*>(salt_.data()), salt_.size());
  for (const std::string* field : {&c.user, &c.password, &hash}) {
    material += std::to_string(field->size()) + ":";
    material += *field;
  }
  Key key{};
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), key.data(), &len, EVP_sha256(), nullptr);
  OPENSSL_cleanse(material.data(), material.size());
  return key;
}

bool BasicAuth::allows(const char* authorization) {
  if (!enabled()) return true;
  if (!authorization) return false;
  const auto credentials = parseBasicAuthorization(authorization);
  if (!credentials) return false;
  const auto user = users_.find(credentials->user);
  const std::string& hash = user != users_.end() ? user->second : kDummyHash;
  const Key key = cacheKey(*credentials, hash);
  const auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    const auto hit = verified_.find(key);
    if (hit != verified_.end()) {
      if (now - hit->second < kCacheTtl) return user != users_.end();
      verified_.erase(hit);
    }
    ++bcryptRuns_;
  }
  const bool ok = bcryptMatches(credentials->password, hash) && user != users_.end();
  if (ok) {
    std::lock_guard lock(mutex_);
    if (verified_.size() >= kCacheMax) verified_.clear();  // bounded: a flood cannot grow it
    verified_[key] = now;
  }
  return ok;
}

std::size_t BasicAuth::bcryptRuns() const {
  std::lock_guard lock(mutex_);
  return bcryptRuns_;
}

}  // namespace envprobe
