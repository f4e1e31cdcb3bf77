#pragma once
// Streams a JSON body and keeps only the values at the given dotted paths ("build.version",
// "items.0.id"): a large body never becomes a DOM. Objects are addressed by key, arrays by
// decimal index; a repeated key keeps its last value, as a parsed document would. The parse is
// iterative and nesting is limited, so a hostile body can neither overflow the stack nor make a
// path's value unboundedly large. Pure and reentrant: no shared mutable state.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace envprobe {

constexpr int kMaxJsonDepth = 256;                    // the whole body
constexpr int kMaxJsonValueDepth = 64;                // a value compared by its text
constexpr std::size_t kMaxJsonValueBytes = 1u << 20;  // ditto, roughly its text size

struct JsonPathValue {
  enum class Kind {
    Missing,   // a step of the path does not exist
    String,    // text: the raw string, without quotes
    Other,     // text: the compact JSON text (numbers, true, false, null, objects, arrays)
    TooDeep,   // an object/array nested deeper than kMaxJsonValueDepth levels
    TooLarge,  // an object/array over kMaxJsonValueBytes
  };
  Kind kind = Kind::Missing;
  std::string text;
  bool truncated = false;  // text is only its first `keepBytes` bytes
};

struct JsonPathScan {
  // Why the body is not usable, as a verdict detail: "body is not valid JSON: <parser message>"
  // (body bytes only as a short excerpt) or "JSON nested deeper than 256 levels". Values are
  // then empty.
  std::optional<std::string> error;
  std::vector<JsonPathValue> values;  // one per path, in order
};

// keepBytes bounds each value's kept text; longer texts are cut and marked truncated.
JsonPathScan scanJsonPaths(std::string_view body, const std::vector<std::string>& paths,
                           std::size_t keepBytes);

}  // namespace envprobe
