#pragma once
// A check's secrets: bearer_token_file, headers_from_file / headers_from_env, query_from_file /
// query_from_env. Files are read (relative to the config file) and variables looked up at load
// time, so check-config refuses a missing file or unset variable exactly as run would.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

void parseSecrets(const YamlContext& ctx, const MapReader& http, HttpCheckSpec& spec);

}  // namespace envprobe
