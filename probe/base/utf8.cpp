#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed sequence starting at bytes[pos] (> 0), or minus the length of
// the maximal ill-formed subpart found there (< 0, at least one byte).
int sequenceAt(std::string_view bytes, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return 1;
  int length = 0;
  unsigned char secondLo = 0x80;
  unsigned char secondHi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead == 0xE0) {
    length = 3;
    secondLo = 0xA0;  // below: overlong
  } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
    length = 3;
  } else if (lead == 0xED) {
    length = 3;
    secondHi = 0x9F;  // above: UTF-16 surrogates
  } else if (lead == 0xF0) {
    length = 4;
    secondLo = 0x90;  // below: overlong
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    length = 4;
  } else if (lead == 0xF4) {
    length = 4;
    secondHi = 0x8F;  // above: beyond U+10FFFF
  } else {
    return -1;  // a continuation byte, C0/C1 (always overlong) or F5..FF (never valid)
  }
  for (int k = 1; k < length; ++k) {
    if (pos + static_cast<std::size_t>(k) >= bytes.size()) return -k;  // truncated
    const unsigned char b = byte(pos + static_cast<std::size_t>(k));
    const unsigned char lo = k == 1 ? secondLo : 0x80;
    const unsigned char hi = k == 1 ? secondHi : 0xBF;
    if (b < lo || b > hi) return -k;
  }
  return length;
}

}  // namespace

bool isValidUtf8(std::string_view bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    // ASCII runs are by far the common case: skip them without decoding.
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const int n = sequenceAt(bytes, pos);
    if (n < 0) return false;
    pos += static_cast<std::size_t>(n);
  }
  return true;
}

std::string makeValidUtf8(std::string_view bytes) {
  if (isValidUtf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 8);
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const int n = sequenceAt(bytes, pos);
    if (n > 0) {
      out.append(bytes.substr(pos, static_cast<std::size_t>(n)));
      pos += static_cast<std::size_t>(n);
    } else {
      out.append(kReplacement);
      pos += static_cast<std::size_t>(-n);
    }
  }
  return out;
}

}  // namespace envprobe
