#pragma once
// UTF-8 validation and repair for bytes that come from outside (targets, Alertmanager answers):
// whatever they hold, what the agent writes into JSON, logs and pages is valid UTF-8.
#include <string>
#include <string_view>

namespace envprobe {

// True when the bytes are well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool isValidUtf8(std::string_view bytes);

// The bytes with every ill-formed sequence replaced by U+FFFD, one per maximal ill-formed
// subpart (the Unicode Standard's recommended practice, as browsers and ICU do it). Valid input
// comes back unchanged.
std::string makeValidUtf8(std::string_view bytes);

}  // namespace envprobe
