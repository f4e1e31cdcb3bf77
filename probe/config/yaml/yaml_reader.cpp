#include "probe/config/yaml/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "probe/base/duration.hpp"

namespace envprobe {

SourceLocation YamlContext::at(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file_, 0, 0};
  return {file_, mark.line + 1, mark.column + 1};
}

namespace {

// Keys and values are quoted in messages; a CR, LF or escape sequence among them must not break
// or recolour the line a terminal shows, so control bytes are written as escapes.
std::string printable(const std::string& text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (byte < 0x20 || byte == 0x7f)
      out += std::string("\\x") + kHex[byte >> 4] + kHex[byte & 15];
    else out += c;
  }
  return out;
}

}  // namespace

void YamlContext::error(const YAML::Node& node, const std::string& path,
                        const std::string& message) const {
  diags_.error(at(node), printable(path), printable(message));
}

void YamlContext::error(const SourceLocation& where, const std::string& path,
                        const std::string& msg) const {
  diags_.error(where, printable(path), printable(msg));
}

void YamlContext::warning(const YAML::Node& node, const std::string& path,
                          const std::string& message) const {
  diags_.warning(at(node), printable(path), printable(message));
}

const char* yamlTypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    default: return "nothing";
  }
}

std::optional<std::string> YamlContext::scalar(const YAML::Node& node,
                                               const std::string& path) const {
  if (!node.IsScalar()) {
    error(node, path, std::string("expected a string, got ") + yamlTypeName(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::vector<std::string>> YamlContext::stringList(const YAML::Node& node,
                                                                const std::string& path) const {
  if (!node.IsSequence()) {
    error(node, path, std::string("expected a list of strings, got ") + yamlTypeName(node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto value = scalar(node[i], path + "[" + std::to_string(i) + "]");
    if (value) out.push_back(*value);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

static std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t bestDistance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const std::size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

MapReader::MapReader(const YamlContext& ctx, const YAML::Node& node, std::string path,
                     std::initializer_list<const char*> allowedKeys)
    : ctx_(ctx), node_(node), path_(std::move(path)) {
  if (!node.IsMap()) {
    ctx_.error(node, path_, std::string("expected a map, got ") + yamlTypeName(node));
    return;
  }
  isMap_ = true;
  const std::vector<std::string> allowed(allowedKeys.begin(), allowedKeys.end());
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      ctx_.error(it->first, path_, "keys must be strings");
      continue;
    }
    const std::string key = it->first.Scalar();
    if (!seen.insert(key).second) {
      ctx_.error(it->first, childPath(key), "duplicate key");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string message = "unknown key \"" + key + "\"";
      const std::string suggestion = closestMatch(key, allowed);
      if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      message += "; allowed here: " + list;
      ctx_.error(it->first, childPath(key), message);
    }
  }
}

std::string MapReader::childPath(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

std::optional<YAML::Node> MapReader::get(const std::string& key) const {
  if (!isMap_) return std::nullopt;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return std::nullopt;
}

SourceLocation MapReader::where(const std::string& key) const {
  auto value = get(key);
  return value ? ctx_.at(*value) : where();
}

void MapReader::requireKey(const std::string& key, const std::string& what) const {
  if (isMap_ && !has(key)) ctx_.error(node_, childPath(key), "missing required key: " + what);
}

std::optional<std::string> MapReader::string(const std::string& key) const {
  auto value = get(key);
  if (!value) return std::nullopt;
  return ctx_.scalar(*value, childPath(key));
}

namespace {

// Digits followed by a unit, one or more times: what a duration looks like whatever its size.
bool durationSyntax(const std::string& text) {
  if (text.empty()) return false;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == digits) return false;
    const std::size_t unit = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string name = text.substr(unit, i - unit);
    if (name != "ms" && name != "s" && name != "m" && name != "h" && name != "d") return false;
  }
  return true;
}

}  // namespace

std::optional<Duration> MapReader::duration(const std::string& key,
                                            limits::DurationRange range) const {
  auto text = string(key);
  if (!text) return std::nullopt;
  auto d = parseDuration(*text);
  if ((!d && !durationSyntax(*text)) || (d && d->count() <= 0)) {
    ctx_.error(*get(key), childPath(key),
               "invalid duration \"" + *text + "\"; expected e.g. 500ms, 30s, 2m, 1h");
    return std::nullopt;
  }
  // Well-formed but too large to parse, or outside the key's range.
  if (!d || *d < range.min || *d > range.max) {
    ctx_.error(*get(key), childPath(key),
               "duration \"" + *text + "\" is out of range: expected " +
                   formatDuration(range.min) + " to " + formatDuration(range.max));
    return std::nullopt;
  }
  return d;
}

std::optional<int> MapReader::integer(const std::string& key, int min, int max) const {
  auto text = string(key);
  if (!text) return std::nullopt;
  // Digits with an optional minus sign only: no spaces, no '+', no trailing text.
  const bool digits = !text->empty() && text->size() <= 12 &&
                      text->find_first_not_of("0123456789", (*text)[0] == '-' ? 1 : 0) ==
                          std::string::npos &&
                      *text != "-";
  if (digits) {
    const long long value = std::stoll(*text);
    if (value >= min && value <= max) return static_cast<int>(value);
  }
  ctx_.error(*get(key), childPath(key),
             "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                 ", got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<double> MapReader::number(const std::string& key, double min, double max) const {
  auto text = string(key);
  if (!text) return std::nullopt;
  try {
    std::size_t used = 0;
    const double value = std::stod(*text, &used);
    if (used == text->size() && value >= min && value <= max) return value;
  } catch (const std::exception&) {
  }
  ctx_.error(*get(key), childPath(key),
             "expected a number from " + std::to_string(min) + " to " + std::to_string(max) +
                 ", got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<bool> MapReader::boolean(const std::string& key) const {
  auto text = string(key);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  ctx_.error(*get(key), childPath(key), "expected true or false, got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<std::vector<std::string>> MapReader::stringList(const std::string& key) const {
  auto value = get(key);
  if (!value) return std::nullopt;
  return ctx_.stringList(*value, childPath(key));
}

std::optional<std::string> MapReader::choice(const std::string& key,
                                             const std::vector<std::string>& choices) const {
  auto text = string(key);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) return text;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : " | ") + c;
  ctx_.error(*get(key), childPath(key), "expected " + list + ", got \"" + *text + "\"");
  return std::nullopt;
}

}  // namespace envprobe
