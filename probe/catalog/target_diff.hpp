#pragma once
// What a config reload changes in the set of targets. Targets are matched by their stable id;
// a target whose definition is identical (URL, instance label, pinned backend, interval,
// timeout, address mode, tier and the whole check: request, secrets, TLS options, assertions) is
// unchanged and keeps its state. Pure.
#include <string>
#include <vector>

#include "probe/catalog/target.hpp"

namespace envprobe {

// Whether two targets probe the same thing in the same way (ids included).
bool sameDefinition(const Target& a, const Target& b);

struct TargetDiff {
  std::vector<std::string> added;      // ids only in the new set
  std::vector<std::string> removed;    // ids only in the old set
  std::vector<std::string> changed;    // in both, definition differs: state restarts
  std::vector<std::string> unchanged;  // in both, same definition: state kept
};

// Each list sorted by id. A duplicate id within one set counts once (the last one wins, as
// when sessions are added in order).
TargetDiff diffTargets(const std::vector<const Target*>& before,
                       const std::vector<const Target*>& after);

}  // namespace envprobe
