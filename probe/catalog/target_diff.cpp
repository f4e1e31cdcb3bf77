#include "probe/catalog/target_diff.hpp"

#include <map>

namespace envprobe {

bool sameDefinition(const Target& a, const Target& b) {
  const bool sameCheck = a.http == b.http || (a.http && b.http && *a.http == *b.http);
  return sameCheck && a.id == b.id && a.env == b.env && a.tier == b.tier &&
         a.service == b.service && a.check == b.check && a.hostname == b.hostname &&
         a.visibility == b.visibility && a.backend == b.backend && a.url == b.url &&
         a.instance == b.instance && a.port == b.port && a.interval == b.interval && a.timeout == b.timeout &&
         a.addressMode == b.addressMode;
}

TargetDiff diffTargets(const std::vector<const Target*>& before,
                       const std::vector<const Target*>& after) {
  std::map<std::string, const Target*> old;
  for (const Target* t : before) old[t->id] = t;
  std::map<std::string, const Target*> now;
  for (const Target* t : after) now[t->id] = t;
  TargetDiff diff;
  for (const auto& [id, target] : now) {
    const auto it = old.find(id);
    if (it == old.end()) diff.added.push_back(id);
    else if (sameDefinition(*it->second, *target)) diff.unchanged.push_back(id);
    else diff.changed.push_back(id);
  }
  for (const auto& [id, target] : old)
    if (!now.count(id)) diff.removed.push_back(id);
  return diff;
}

}  // namespace envprobe
