#include "probe/base/utf8.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

using envprobe::isValidUtf8;
using envprobe::makeValidUtf8;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// The textbook encoder, to cross-check the validator over every code point.
std::string encode(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

}  // namespace

TEST_CASE("utf8: valid text passes unchanged", "[utf8]") {
  const std::string text = GENERATE(as<std::string>{}, "", "plain ascii", std::string("nul\0in", 6),
                                    "\x7f", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
                                    "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEF\xBF\xBF",
                                    "\xED\x9F\xBF", "\xEE\x80\x80", "\xF0\x90\x80\x80",
                                    "\xF4\x8F\xBF\xBF", kFffd);
  INFO("bytes: " << text);
  CHECK(isValidUtf8(text));
  CHECK(makeValidUtf8(text) == text);
}

TEST_CASE("utf8: every scalar value encodes to valid UTF-8, every surrogate does not", "[utf8]") {
  std::uint32_t wrong = 0;
  for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (isValidUtf8(encode(cp)) == surrogate) ++wrong;
  }
  CHECK(wrong == 0);
}

TEST_CASE("utf8: ill-formed sequences become U+FFFD", "[utf8]") {
  struct Case {
    std::string in, out;
  };
  const Case c = GENERATE(values<Case>({
      {"caf\xE9", "caf" + kFffd},                                  // Latin-1
      {"caf\xE9/1.0", "caf" + kFffd + "/1.0"},                     // Latin-1 before ASCII
      {"\x80", kFffd},                                              // lone continuation
      {"a\xBF\xBF" "b", "a" + kFffd + kFffd + "b"},                 // two of them
      {"\xC0\xAF", kFffd + kFffd},                                  // overlong '/', 2 bytes
      {"\xC1\xBF", kFffd + kFffd},                                  // overlong, C1 lead
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},                      // overlong, 3 bytes
      {"\xE0\x9F\xBF", kFffd + kFffd + kFffd},                      // overlong U+07FF
      {"\xF0\x80\x80\xAF", kFffd + kFffd + kFffd + kFffd},          // overlong, 4 bytes
      {"\xF0\x8F\xBF\xBF", kFffd + kFffd + kFffd + kFffd},          // overlong U+FFFF
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},                      // high surrogate
      {"\xED\xBF\xBF", kFffd + kFffd + kFffd},                      // low surrogate
      {"\xED\xA0\xBD\xED\xB8\x80", kFffd + kFffd + kFffd + kFffd + kFffd + kFffd},  // CESU-8
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},          // U+110000
      {"\xF5\x80\x80\x80", kFffd + kFffd + kFffd + kFffd},          // F5 lead
      {"\xFE", kFffd},                                               // never valid
      {"\xFF" "ok", kFffd + "ok"},                                   // never valid
      {"\xE2\x82", kFffd},                                           // truncated at end
      {"\xF0\x9F\x98", kFffd},                                       // truncated at end
      {"\xF0\x9F", kFffd},                                           // truncated at end
      {"\xC3", kFffd},                                               // truncated at end
      {"\xE2\x82x", kFffd + "x"},                                    // truncated mid-text
      {"\xC3\xC3\xA9", kFffd + "\xC3\xA9"},                          // bad lead, good next
      // The Unicode Standard's example of maximal subparts (chapter 3, U+FFFD substitution).
      {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
       "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d"},
  }));
  INFO("bytes: " << c.in);
  CHECK_FALSE(isValidUtf8(c.in));
  const std::string out = makeValidUtf8(c.in);
  CHECK(isValidUtf8(out));
  CHECK(out == c.out);
}

TEST_CASE("utf8: valid text around a bad byte is kept", "[utf8]") {
  const std::string in = "\xE2\x82\xAC\xE9\xF0\x9F\x98\x80";
  CHECK(makeValidUtf8(in) == "\xE2\x82\xAC" + kFffd + "\xF0\x9F\x98\x80");
}

TEST_CASE("utf8: every one- and two-byte string comes out valid", "[utf8]") {
  std::uint32_t wrong = 0;
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    if (!isValidUtf8(makeValidUtf8(one))) ++wrong;
    if (isValidUtf8(one) != (a < 0x80)) ++wrong;
    for (int b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      const std::string out = makeValidUtf8(two);
      if (!isValidUtf8(out)) ++wrong;
      if (isValidUtf8(two) != (out == two)) ++wrong;
      // A two-byte string is valid exactly when both are ASCII or it is one 2-byte character.
      const bool expected = (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      if (isValidUtf8(two) != expected) ++wrong;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("utf8: random bytes always come out valid, and repairing twice changes nothing", "[utf8]") {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;  // fixed seed: deterministic
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<unsigned char>(state >> 56);
  };
  std::uint32_t wrong = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(static_cast<std::size_t>(next() % 24), '\0');
    for (auto& c : bytes) c = static_cast<char>(next());
    const std::string out = makeValidUtf8(bytes);
    if (!isValidUtf8(out) || makeValidUtf8(out) != out) ++wrong;
  }
  CHECK(wrong == 0);
}
