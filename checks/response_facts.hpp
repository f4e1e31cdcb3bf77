#pragma once
// Facts read from a response for change tracking and deployment checks, made safe to show: a
// value's text bounded and valid UTF-8, a body's SHA-256. Pure.
#include <cstddef>
#include <string>
#include <string_view>

namespace envprobe {

// `raw` trimmed of surrounding whitespace, ill-formed UTF-8 and control characters replaced by
// U+FFFD, cut to at most `maxBytes` without splitting a character (and trimmed again).
std::string factText(std::string_view raw, std::size_t maxBytes);

// The longest prefix of `text` of at most `maxBytes` that does not end inside a UTF-8 sequence.
std::size_t utf8PrefixLength(std::string_view text, std::size_t maxBytes);

// SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);

}  // namespace envprobe
