#include "checks/response_facts.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "probe/base/text.hpp"
#include "probe/base/utf8.hpp"

namespace envprobe {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD


}  // namespace

std::size_t utf8PrefixLength(std::string_view text, std::size_t maxBytes) {
  std::size_t length = std::min(text.size(), maxBytes);
  while (length < text.size() && length > 0 &&
         (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) {
    --length;
  }
  return length;
}

std::string factText(std::string_view raw, std::size_t maxBytes) {
  raw = trimSpace(raw);
  raw = raw.substr(0, utf8PrefixLength(raw, maxBytes));
  std::string valid = makeValidUtf8(raw);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f)
      out += kReplacement;
    else
      out += c;
  }
  // Replacements may have made it longer; `out` is valid UTF-8 now, so cutting is safe.
  out.resize(utf8PrefixLength(out, maxBytes));
  return std::string(trimSpace(out));
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    return {};
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace envprobe
