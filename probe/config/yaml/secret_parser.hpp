#pragma once
// A check's secrets: bearer_token_file, headers_from_file / headers_from_env, query_from_file /
// query_from_env. Files are read (relative to the config file) and variables looked up at load
// time, so check-config refuses a missing file or unset variable exactly as run would.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

// A secret's value, or why it could not be read (in words, never quoting the value).
struct SecretRead {
  std::string value;
  std::string error;  // empty: read
  std::string file;   // the file read, resolved against the config file's directory
};

// A regular file of at most 64 KiB, relative to `configFile`'s directory; its content without
// trailing newline(s), not empty.
SecretRead readSecretFile(const std::string& configFile, const std::string& path);

void parseSecrets(const YamlContext& ctx, const MapReader& http, HttpCheckSpec& spec);

}  // namespace envprobe
