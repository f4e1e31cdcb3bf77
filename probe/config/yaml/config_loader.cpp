#include "probe/config/yaml/config_loader.hpp"

#include <glob.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "probe/config/address_rules.hpp"
#include "probe/config/yaml/alerting_parser.hpp"
#include "probe/config/yaml/catalog_parser.hpp"
#include "probe/config/yaml/deploy_parser.hpp"
#include "probe/config/yaml/metrics_parser.hpp"
#include "probe/base/duration.hpp"
#include "probe/config/yaml/yaml_reader.hpp"

namespace envprobe {

namespace {

namespace fs = std::filesystem;

// Why `path` cannot be read as a config file, or "" when it is a regular file (or absent, which
// opening it reports). Checked before opening: a fifo would block the open, a device such as
// /dev/zero would be read forever, a directory reads as garbage.
std::string notRegularFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  switch (status.type()) {
    case fs::file_type::regular:
    case fs::file_type::not_found:
    case fs::file_type::none: return "";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::fifo: return "a fifo";
    case fs::file_type::socket: return "a socket";
    case fs::file_type::character: return "a character device";
    case fs::file_type::block: return "a block device";
    default: return "not a regular file";
  }
}

std::optional<YAML::Node> readYaml(const std::string& path, Diagnostics& diags) {
  if (const std::string kind = notRegularFile(path); !kind.empty()) {
    diags.error({path, 0, 0}, "", "cannot read file: it is " + kind + ", not a regular file");
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    diags.error({path, 0, 0}, "", "cannot read file");
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    YAML::Node node = YAML::Load(text.str());
    if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);  // an empty file is an empty map
    return node;
  } catch (const YAML::Exception& e) {
    diags.error({path, e.mark.is_null() ? 0 : e.mark.line + 1,
                 e.mark.is_null() ? 0 : e.mark.column + 1},
                "", "invalid YAML: " + e.msg);
    return std::nullopt;
  }
}

std::vector<std::string> expandInclude(const YamlContext& ctx, const YAML::Node& node,
                                       const std::string& path, const fs::path& baseDir,
                                       const std::string& pattern) {
  const fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : baseDir / pattern;
  glob_t matches{};
  const int rc = glob(full.c_str(), GLOB_ERR, nullptr, &matches);
  std::vector<std::string> out;
  bool matchedAny = false;
  if (rc == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
      matchedAny = true;
      const std::string match = matches.gl_pathv[i];
      if (const std::string kind = notRegularFile(match); !kind.empty())
        ctx.error(node, path, "\"" + pattern + "\" matches " + match + ", which is " + kind +
                                  ", not a regular file");
      else out.push_back(match);
    }
  }
  globfree(&matches);
  if (matchedAny) return out;
  if (out.empty()) ctx.error(node, path, "\"" + pattern + "\" matches no file (relative to " +
                                             (baseDir.empty() ? "." : baseDir.string()) + ")");
  return out;
}

void parseCatalogKeys(const YamlContext& ctx, const MapReader& reader, Catalog& catalog) {
  if (auto envs = reader.get("environments")) parseEnvironments(ctx, *envs, catalog);
  if (auto services = reader.get("services")) parseServices(ctx, *services, catalog);
}

void parseAgentKeys(const YamlContext& ctx, const MapReader& reader, AgentConfig& config) {
  if (auto env = reader.string("environment")) {
    if (env->empty()) ctx.error(*reader.get("environment"), "environment", "must not be empty");
    config.environment = *env;
    config.environmentWhere = reader.where("environment");
  }
  if (auto v = reader.string("listen")) {
    if (auto error = listenAddressError(*v)) ctx.error(*reader.get("listen"), "listen", *error);
    else if (v->front() == '[')
      // The web server (Debian's civetweb) is built without IPv6: it would refuse to start.
      ctx.error(*reader.get("listen"), "listen",
                "IPv6 listen addresses are not supported by the web server; listen on an IPv4 "
                "address or a hostname, or on :port for every IPv4 address");
    config.listen = *v;
  }
  if (auto defaults = reader.get("defaults")) {
    MapReader d(ctx, *defaults, "defaults", {"interval", "timeout", "address_mode"});
    if (auto v = d.duration("interval", limits::kInterval)) config.defaults.interval = *v;
    if (auto v = d.duration("timeout", limits::kTimeout)) config.defaults.timeout = *v;
    if (auto v = d.choice("address_mode", {"first", "all"}))
      config.defaults.addressMode = *v == "all" ? AddressMode::All : AddressMode::First;
    if (config.defaults.timeout > config.defaults.interval)
      ctx.error(*defaults, "defaults.timeout",
                "timeout " + formatDuration(config.defaults.timeout) + " exceeds interval " +
                    formatDuration(config.defaults.interval));
  }
  if (auto dns = reader.get("dns")) {
    MapReader d(ctx, *dns, "dns", {"servers", "timeout", "tries"});
    if (auto v = d.stringList("servers")) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        if (auto error = dnsServerError((*v)[i]))
          ctx.error((*d.get("servers"))[i], d.childPath("servers") + "[" + std::to_string(i) + "]",
                    *error);
      }
      config.dns.servers = *v;
    }
    if (auto v = d.duration("timeout", limits::kDnsTimeout)) config.dns.timeout = *v;
    if (auto v = d.integer("tries", limits::kDnsTries)) config.dns.tries = *v;
  }
  if (auto scheduler = reader.get("scheduler")) {
    MapReader s(ctx, *scheduler, "scheduler", {"jitter", "max_inflight"});
    if (auto v = s.number("jitter", 0.0, limits::kJitterMax)) config.scheduler.jitter = *v;
    if (auto v = s.integer("max_inflight", limits::kMaxInflight)) config.scheduler.maxInflight = *v;
  }
}

// Cross-file rules, checked once everything is loaded.
void validateReferences(const AgentConfig& config, Diagnostics& diags) {
  const Catalog& catalog = config.catalog;
  auto declared = [&](const std::string& env) { return catalog.findEnvironment(env) != nullptr; };
  std::string known;
  for (const auto& env : catalog.environments) known += (known.empty() ? "" : ", ") + env.name;
  if (!config.environment.empty() && !declared(config.environment)) {
    diags.error(config.environmentWhere, "environment",
                "environment \"" + config.environment + "\" is not declared in `environments` (" +
                    (known.empty() ? "none declared" : "declared: " + known) + ")");
  }
  for (std::size_t i = 0; i < catalog.services.size(); ++i) {
    const ServiceDef& service = catalog.services[i];
    auto checkMap = [&](const std::map<std::string, SourceLocation>& where, const std::string& key) {
      for (const auto& [env, loc] : where) {
        if (declared(env)) continue;
        std::vector<std::string> names;
        for (const auto& e : catalog.environments) names.push_back(e.name);
        const std::string suggestion = closestMatch(env, names);
        diags.error(loc, "services[" + std::to_string(i) + "]." + key + "." + env,
                    "unknown environment \"" + env + "\"" +
                        (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)") +
                        "; declared: " + known);
      }
    };
    checkMap(service.internal.envWhere, "hostnames.internal");
    checkMap(service.publicNames.envWhere, "hostnames.public");
    checkMap(service.backendsWhere, "backends");
    for (std::size_t c = 0; c < service.checks.size(); ++c) {
      const CheckDef& check = service.checks[c];
      if (!check.interval && !check.timeout) continue;  // the defaults were checked already
      const Duration interval = check.interval.value_or(config.defaults.interval);
      const Duration timeout = check.timeout.value_or(config.defaults.timeout);
      if (timeout > interval)
        diags.error(check.where,
                    "services[" + std::to_string(i) + "].checks[" + std::to_string(c) + "]",
                    "timeout " + formatDuration(timeout) + " exceeds interval " +
                        formatDuration(interval));
    }
  }
}

}  // namespace

LoadResult loadConfig(const std::string& path) {
  LoadResult result;
  AgentConfig& config = result.config;
  config.file = path;
  auto root = readYaml(path, result.diagnostics);
  if (!root) return result;
  YamlContext ctx(path, result.diagnostics);
  MapReader reader(ctx, *root, "",
                   {"environment", "include", "defaults", "dns", "scheduler", "listen", "alerting",
                    "maintenance", "api", "metrics", "environments", "services"});
  if (!reader.isMap()) return result;
  parseAgentKeys(ctx, reader, config);
  if (auto alerting = reader.get("alerting")) parseAlerting(ctx, *alerting, config);
  if (auto maintenance = reader.get("maintenance")) parseMaintenance(ctx, *maintenance, config);
  if (auto api = reader.get("api")) parseApi(ctx, *api, config);
  if (auto metrics = reader.get("metrics")) parseMetrics(ctx, *metrics, config.metrics);
  parseCatalogKeys(ctx, reader, config.catalog);

  if (auto includes = reader.get("include")) {
    const fs::path baseDir = fs::path(path).parent_path();
    std::vector<std::string> files;
    if (auto patterns = ctx.stringList(*includes, "include")) {
      for (std::size_t i = 0; i < patterns->size(); ++i) {
        const std::string& pattern = (*patterns)[i];
        config.includePatterns.push_back(
            (fs::path(pattern).is_absolute() ? fs::path(pattern) : baseDir / pattern).string());
        for (auto& f : expandInclude(ctx, (*includes)[i], "include[" + std::to_string(i) + "]",
                                     baseDir, (*patterns)[i]))
          files.push_back(std::move(f));
      }
    }
    std::set<std::string> seen;
    for (const auto& file : files) {
      const std::string canonical = fs::weakly_canonical(file).string();
      if (!seen.insert(canonical).second || canonical == fs::weakly_canonical(path).string())
        continue;
      config.includes.push_back(file);
      auto node = readYaml(file, result.diagnostics);
      if (!node) continue;
      YamlContext includeCtx(file, result.diagnostics);
      MapReader includeReader(includeCtx, *node, "", {"environments", "services"});
      parseCatalogKeys(includeCtx, includeReader, config.catalog);
    }
  }
  validateReferences(config, result.diagnostics);
  return result;
}

}  // namespace envprobe
