#pragma once
// Deployment verification in the config: where a check reads the deployed version (`version:`),
// which facts it tracks (`track:`), the environment a response must name (`expect.identity:`),
// and the agent's control API token (`api:`). Collects diagnostics, never throws.
#include <yaml-cpp/yaml.h>

#include "probe/config/config_model.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

// http.version: { json: PATH } | { header: NAME } | { regex: PATTERN }.
std::optional<ValueSource> parseVersionSource(const YamlContext& ctx, const YAML::Node& node,
                                              const std::string& path);

// http.track: a list of fact names; [] tracks nothing.
std::optional<TrackedFacts> parseTrack(const YamlContext& ctx, const YAML::Node& node,
                                       const std::string& path);

// expect.identity: one value source plus an optional `equals` (default "{env}").
std::optional<IdentityExpect> parseIdentity(const YamlContext& ctx, const YAML::Node& node,
                                            const std::string& path);

// The agent file's `api: { token_file: PATH }`; the token is read now.
void parseApi(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config);

}  // namespace envprobe
