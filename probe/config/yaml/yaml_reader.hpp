#pragma once
// Strict, diagnostic-collecting reading of yaml-cpp nodes: every problem is recorded with
// file:line:column and key path, and reading goes on so that all errors are reported at once.
#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "probe/config/config_limits.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

class YamlContext {
 public:
  YamlContext(std::string file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}
  SourceLocation at(const YAML::Node& node) const;
  void error(const YAML::Node& node, const std::string& path, const std::string& message) const;
  void error(const SourceLocation& where, const std::string& path, const std::string& msg) const;
  void warning(const YAML::Node& node, const std::string& path, const std::string& message) const;
  const std::string& file() const { return file_; }
  Diagnostics& diagnostics() const { return diags_; }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path) const;
  std::optional<std::vector<std::string>> stringList(const YAML::Node& node,
                                                     const std::string& path) const;

 private:
  std::string file_;
  Diagnostics& diags_;
};

// The closest candidate to `word` by edit distance, or "" when nothing is close.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

// Reads one mapping. Unknown and duplicate keys are reported when the reader is constructed.
class MapReader {
 public:
  MapReader(const YamlContext& ctx, const YAML::Node& node, std::string path,
            std::initializer_list<const char*> allowedKeys);

  bool isMap() const { return isMap_; }
  const std::string& path() const { return path_; }
  std::string childPath(const std::string& key) const;
  SourceLocation where() const { return ctx_.at(node_); }
  SourceLocation where(const std::string& key) const;

  // The value node of `key`, or nullopt when absent (or when the node is not a map).
  std::optional<YAML::Node> get(const std::string& key) const;
  bool has(const std::string& key) const { return get(key).has_value(); }
  void requireKey(const std::string& key, const std::string& what) const;

  std::optional<std::string> string(const std::string& key) const;
  // A duration within `range`; zero, negative and malformed ones are refused as invalid.
  std::optional<Duration> duration(const std::string& key, limits::DurationRange range) const;
  std::optional<int> integer(const std::string& key, int min, int max) const;
  std::optional<int> integer(const std::string& key, limits::IntRange range) const {
    return integer(key, range.min, range.max);
  }
  std::optional<double> number(const std::string& key, double min, double max) const;
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<std::vector<std::string>> stringList(const std::string& key) const;
  // The string must be one of `choices`.
  std::optional<std::string> choice(const std::string& key,
                                    const std::vector<std::string>& choices) const;

 private:
  const YamlContext& ctx_;
  YAML::Node node_;
  std::string path_;
  bool isMap_ = false;
};

const char* yamlTypeName(const YAML::Node& node);

}  // namespace envprobe
