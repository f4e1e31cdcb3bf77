#pragma once
// A /metrics body made of several sources: prometheus-cpp collectables (the agent's own
// metrics, serialized with prometheus::TextSerializer) and sources that write the text format
// themselves (the probe series, see probe_metrics.hpp), in the order given, through one
// TextWriter.
#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <vector>

#include "probe/metrics/text_writer.hpp"

namespace envprobe {

// A source that writes its families as text itself. A collectable that also implements this is
// written through writeText(), never through Collect().
class TextCollectable {
 public:
  virtual ~TextCollectable() = default;
  virtual void writeText(TextWriter& out) const = 0;
};

// Writes every collectable's families, in order, then flushes.
void writeExposition(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables,
                     TextWriter& out);

// The whole body the way it was built before streaming: every Collect(), one TextSerializer
// string. Kept as the reference for tests and benchmarks.
std::string serializeCollected(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

}  // namespace envprobe
