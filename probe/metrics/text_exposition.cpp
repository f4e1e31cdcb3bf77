#include "probe/metrics/text_exposition.hpp"

#include <prometheus/text_serializer.h>

namespace envprobe {

void writeExposition(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables,
                     TextWriter& out) {
  for (const auto& c : collectables) {
    if (!c || out.failed()) continue;
    if (const auto* text = dynamic_cast<const TextCollectable*>(c.get())) {
      text->writeText(out);
      continue;
    }
    const auto families = c->Collect();
    if (!families.empty()) out.raw(prometheus::TextSerializer().Serialize(families));
  }
  out.flush();
}

std::string serializeCollected(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectables) {
    if (!c) continue;
    auto more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace envprobe
