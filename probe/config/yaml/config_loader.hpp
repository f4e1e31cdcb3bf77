#pragma once
// Loads an agent file and the catalog files it includes into an AgentConfig. All problems are
// collected as diagnostics (file:line:column, key path); nothing is thrown.
#include <string>

#include "probe/config/config_model.hpp"

namespace envprobe {

struct LoadResult {
  AgentConfig config;
  Diagnostics diagnostics;
  bool ok() const { return !diagnostics.hasErrors(); }
};

// A file with `environment:` is an agent file; one without is a catalog checked on its own.
LoadResult loadConfig(const std::string& path);

}  // namespace envprobe
