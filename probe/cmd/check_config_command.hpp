#pragma once
#include <ostream>

#include "probe/cmd/cli.hpp"

namespace envprobe {

// `envprobe check-config FILE`: 0 when the config is valid, 1 otherwise (every error printed).
int runCheckConfig(const CommandLine& cl, std::ostream& out, std::ostream& err);

}  // namespace envprobe
