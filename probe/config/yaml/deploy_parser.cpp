// yaml-cpp -> ValueSource, TrackedFacts, IdentityExpect, ApiSettings.
#include "probe/config/yaml/deploy_parser.hpp"

#include <re2/re2.h>

#include <set>
#include <string_view>

#include "probe/base/text.hpp"
#include "checks/regex_budget.hpp"
#include "probe/config/address_rules.hpp"
#include "probe/config/yaml/secret_parser.hpp"

namespace envprobe {

namespace {

// The shortest control API token accepted: a guessable token would open the API to anyone.
constexpr std::size_t kMinApiTokenBytes = 16;

struct SourceKey {
  const char* name;
  ValueSource::Kind kind;
};
constexpr SourceKey kSourceKeys[] = {{"json", ValueSource::Kind::Json},
                                     {"header", ValueSource::Kind::Header},
                                     {"regex", ValueSource::Kind::Regex}};

// Why `key` cannot be read as a value of `kind`, or nullopt.
std::optional<std::string> sourceKeyError(ValueSource::Kind kind, const std::string& key) {
  if (key.empty()) return std::string("must not be empty");
  switch (kind) {
    case ValueSource::Kind::Json:
      if (key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
        return "\"" + key + "\" has an empty step; expected a dotted path like build.version";
      return std::nullopt;
    case ValueSource::Kind::Header:
      return headerNameError(key);
    case ValueSource::Kind::Regex: {
      if (auto error = regexBudgetError(key)) return *error + " (pattern \"" + key + "\")";
      const re2::RE2 re(key, regexOptions());
      if (re.NumberOfCapturingGroups() > 1)
        return "pattern \"" + key + "\" has " + std::to_string(re.NumberOfCapturingGroups()) +
               " capture groups; use at most one (the value is group 1, or the whole match "
               "without a group); write other groups as (?:...)";
      return std::nullopt;
    }
    case ValueSource::Kind::None:
      break;
  }
  return std::nullopt;
}

// Exactly one of json / header / regex in `reader`'s map; `what` names the map in messages,
// `otherKeys` is how many other allowed keys it has.
std::optional<ValueSource> readSource(const YamlContext& ctx, const YAML::Node& node,
                                      const MapReader& reader, const std::string& what,
                                      std::size_t otherKeys = 0) {
  if (!reader.isMap()) return std::nullopt;
  std::vector<const SourceKey*> given;
  for (const auto& key : kSourceKeys)
    if (reader.has(key.name)) given.push_back(&key);
  if (given.empty()) {
    if (node.size() > otherKeys) return std::nullopt;  // an unknown key, reported already
    ctx.error(node, reader.path(),
              what +
                  " needs one of json, header or regex, e.g. { json: build.version }, "
                  "{ header: X-App-Version } or { regex: \"v([0-9.]+)\" }");
    return std::nullopt;
  }
  if (given.size() > 1) {
    ctx.error(*reader.get(given[1]->name), reader.childPath(given[1]->name),
              std::string("give one of json, header or regex, not both ") + given[0]->name +
                  " and " + given[1]->name);
    return std::nullopt;
  }
  const SourceKey& chosen = *given.front();
  auto key = reader.string(chosen.name);
  if (!key) return std::nullopt;
  if (auto error = sourceKeyError(chosen.kind, *key)) {
    ctx.error(*reader.get(chosen.name), reader.childPath(chosen.name), *error);
    return std::nullopt;
  }
  return ValueSource{chosen.kind, *key};
}

bool hasSpaceOrControl(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return true;
  }
  return false;
}


}  // namespace

std::optional<ValueSource> parseVersionSource(const YamlContext& ctx, const YAML::Node& node,
                                              const std::string& path) {
  MapReader reader(ctx, node, path, {"json", "header", "regex"});
  return readSource(ctx, node, reader, "version");
}

std::optional<TrackedFacts> parseTrack(const YamlContext& ctx, const YAML::Node& node,
                                       const std::string& path) {
  auto names = ctx.stringList(node, path);
  if (!names) return std::nullopt;
  std::vector<std::string> known;
  for (Fact fact : kAllFacts) known.emplace_back(toString(fact));
  TrackedFacts facts = TrackedFacts::none();
  bool ok = true;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    const std::string itemPath = path + "[" + std::to_string(i) + "]";
    if (auto fact = factFromString(name)) {
      if (!seen.insert(name).second) {
        ctx.error(node[i], itemPath, "\"" + name + "\" is listed twice");
        ok = false;
      }
      facts.add(*fact);
      continue;
    }
    ok = false;
    std::string message = "unknown fact \"" + name + "\"";
    const std::string suggestion = closestMatch(name, known);
    if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
    ctx.error(node[i], itemPath,
              message + "; expected server, certificate, addresses, version or body");
  }
  if (!ok) return std::nullopt;
  return facts;
}

std::optional<IdentityExpect> parseIdentity(const YamlContext& ctx, const YAML::Node& node,
                                            const std::string& path) {
  MapReader reader(ctx, node, path, {"json", "header", "regex", "equals"});
  auto source = readSource(ctx, node, reader, "identity", reader.has("equals") ? 1 : 0);
  IdentityExpect identity;
  if (auto equals = reader.string("equals")) {
    if (equals->empty()) {
      ctx.error(*reader.get("equals"), reader.childPath("equals"),
                "must not be empty; omit it to expect the agent's environment ({env})");
      return std::nullopt;
    }
    identity.equals = *equals;
  }
  if (!source) return std::nullopt;
  identity.source = *source;
  return identity;
}

void parseApi(const YamlContext& ctx, const YAML::Node& node, AgentConfig& config) {
  MapReader reader(ctx, node, "api", {"token_file"});
  if (!reader.isMap()) return;
  reader.requireKey("token_file", "the file holding the control API's bearer token");
  auto file = reader.string("token_file");
  if (!file) return;
  const YAML::Node where = *reader.get("token_file");
  const std::string path = reader.childPath("token_file");
  if (file->empty()) {
    ctx.error(where, path, "must not be empty");
    return;
  }
  const SecretRead read = readSecretFile(ctx.file(), *file);
  if (!read.error.empty()) {
    ctx.error(where, path, read.error);
    return;
  }
  // Errors name the file, never the token or a part of it.
  const std::string name = "\"" + read.file + "\"";
  const std::string token(trimSpace(read.value));
  if (token.empty()) {
    ctx.error(where, path, name + " is empty");
    return;
  }
  if (hasSpaceOrControl(token)) {
    ctx.error(where, path,
              "the token in " + name +
                  " has a space or control character; write it on one "
                  "line, without spaces");
    return;
  }
  if (token.size() < kMinApiTokenBytes) {
    ctx.error(where, path,
              "the token in " + name + " is shorter than " + std::to_string(kMinApiTokenBytes) +
                  " characters; use a long random one, e.g. openssl rand -hex 32");
    return;
  }
  config.api.tokenFile = read.file;
  config.api.token = token;
  config.api.where = ctx.at(where);
}

}  // namespace envprobe
