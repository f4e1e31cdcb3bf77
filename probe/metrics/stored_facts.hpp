#pragma once
// How ProbeMetrics stores a series' facts: SeriesFacts made compact. The texts a result carries
// (the failure detail, the Server header, the address probed, the deployed version) are held by
// pointer and shared between series through a TextPool (100,000 series behind one web server
// share one "nginx/1.22.1"), and the seconds of the last probe are its milliseconds / 1000.
// expand() gives the plain value back.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "probe/metrics/series_state.hpp"

namespace envprobe {

// An immutable text held by pointer; empty costs no allocation.
class SharedText {
 public:
  const std::string& str() const { return text_ ? *text_ : none(); }
  bool empty() const { return !text_; }

 private:
  friend class TextPool;
  static const std::string& none() {
    static const std::string value;
    return value;
  }
  std::shared_ptr<const std::string> text_;  // null for ""
};

// Hands out shared copies of texts. Not thread-safe: its owner's lock guards it. At most
// kMaxEntries texts of at most kMaxBytes are pooled, for the pool's whole life (so a target
// that answers with a new Server header every time cannot grow it); any other text gets a copy
// of its own.
class TextPool {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  static constexpr std::size_t kMaxBytes = 256;

  // `current` itself when it already holds `text` (the common case: nothing changed).
  SharedText intern(std::string_view text, const SharedText& current);
  std::size_t size() const { return pool_.size(); }

 private:
  std::unordered_map<std::string_view, std::shared_ptr<const std::string>> pool_;  // keys view values
};

struct StoredFacts : SeriesNumbers {
  SharedText detail;
  SharedText serverHeader;
  SharedText resolvedAddress;
  SharedText version;
  std::vector<std::pair<Reason, std::uint64_t>> failures;  // by reason, ascending
  SharedValue<TlsFacts> tls;
  SharedValue<SeriesLastChange> lastChange;

  std::int64_t lastProbeUnix() const { return lastProbeUnixMs / 1000; }
  // The plain value, into `out` (its identity fields untouched).
  void expandInto(SeriesFacts& out) const;
};

}  // namespace envprobe
