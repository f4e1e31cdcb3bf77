#include "probe/base/core_types.hpp"

namespace envprobe {

const char* toString(Tier tier) { return tier == Tier::Prod ? "prod" : "nonprod"; }
const char* toString(Visibility v) { return v == Visibility::Internal ? "internal" : "public"; }
const char* toString(AddressMode mode) { return mode == AddressMode::All ? "all" : "first"; }

}  // namespace envprobe
