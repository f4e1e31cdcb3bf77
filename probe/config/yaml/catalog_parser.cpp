#include "probe/config/yaml/catalog_parser.hpp"

#include <map>
#include <set>

#include "probe/config/address_rules.hpp"

namespace envprobe {

namespace {

bool validName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

bool validHostname(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '{' && c != '}')
      return false;
  }
  return true;
}

std::vector<std::string> checkedHostnames(const YamlContext& ctx, const YAML::Node& node,
                                          const std::string& path) {
  auto list = ctx.stringList(node, path);
  if (!list) return {};
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (!validHostname((*list)[i]))
      ctx.error(node[i], path + "[" + std::to_string(i) + "]",
                "invalid hostname \"" + (*list)[i] +
                    "\"; expected a bare name like shop.example.com (no scheme, port or path)");
  }
  return *list;
}

HostnameSpec parseHostnames(const YamlContext& ctx, const YAML::Node& node,
                            const std::string& path) {
  HostnameSpec spec;
  spec.declared = true;
  spec.where = ctx.at(node);
  if (node.IsSequence()) {
    spec.all = checkedHostnames(ctx, node, path);
    return spec;
  }
  if (node.IsMap()) {
    spec.perEnvironment = true;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string env = it->first.Scalar();
      const std::string envPath = path + "." + env;
      if (spec.byEnv.count(env)) {
        ctx.error(it->first, envPath, "duplicate environment");
        continue;
      }
      spec.envWhere[env] = ctx.at(it->first);
      if (it->second.IsNull()) {
        ctx.error(it->second, envPath,
                  "expected a list of hostnames; write [] for \"none in this environment\"");
        spec.byEnv[env] = {};
        continue;
      }
      spec.byEnv[env] = checkedHostnames(ctx, it->second, envPath);
    }
    return spec;
  }
  ctx.error(node, path,
            std::string("expected a list of hostnames (every environment, {env} expands) or a map "
                        "environment -> list, got ") +
                yamlTypeName(node));
  return spec;
}

void parseBackends(const YamlContext& ctx, const YAML::Node& node, const std::string& path,
                   ServiceDef& service) {
  if (!node.IsMap()) {
    ctx.error(node, path,
              std::string("expected a map environment -> list of addresses, got ") +
                  yamlTypeName(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string env = it->first.Scalar();
    if (service.backendsWhere.count(env)) {
      ctx.error(it->first, path + "." + env, "duplicate environment");
      continue;
    }
    service.backendsWhere[env] = ctx.at(it->first);
    auto list = ctx.stringList(it->second, path + "." + env);
    if (!list) continue;
    // An address listed twice is probed twice: under one target id when spelled the same.
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string& address = (*list)[i];
      const std::string itemPath = path + "." + env + "[" + std::to_string(i) + "]";
      if (auto error = backendAddressError(address)) {
        ctx.error(it->second[i], itemPath, *error);
        continue;
      }
      auto [first, inserted] = seen.emplace(canonicalBackend(address), i);
      if (!inserted)
        ctx.error(it->second[i], itemPath,
                  "backend \"" + address + "\" is listed twice for environment \"" + env +
                      "\" (also at " + path + "." + env + "[" + std::to_string(first->second) +
                      "], line " + std::to_string(ctx.at(it->second[first->second]).line) + ")");
    }
    service.backends[env] = *list;
  }
}

std::optional<ServiceDef> parseService(const YamlContext& ctx, const YAML::Node& node,
                                       const std::string& path) {
  MapReader reader(ctx, node, path, {"name", "hostnames", "backends", "address_mode", "checks"});
  if (!reader.isMap()) return std::nullopt;
  ServiceDef service;
  service.where = reader.where();
  reader.requireKey("name", "the service's name");
  reader.requireKey("hostnames", "hostnames.internal and hostnames.public");
  reader.requireKey("checks", "a list of checks");
  if (auto name = reader.string("name")) {
    if (!validName(*name))
      ctx.error(*reader.get("name"), reader.childPath("name"),
                "a service name uses letters, digits, '-', '_' and '.' only");
    service.name = *name;
  }
  if (auto hostnames = reader.get("hostnames")) {
    MapReader hn(ctx, *hostnames, reader.childPath("hostnames"), {"internal", "public"});
    if (hn.isMap()) {
      if (auto n = hn.get("internal"))
        service.internal = parseHostnames(ctx, *n, hn.childPath("internal"));
      if (auto n = hn.get("public"))
        service.publicNames = parseHostnames(ctx, *n, hn.childPath("public"));
      for (const char* kind : {"internal", "public"}) {
        if (!hn.has(kind))
          ctx.error(*hostnames, hn.childPath(kind),
                    std::string("missing; list the ") + kind +
                        " hostnames, or write `" + kind + ": []` if there are none");
      }
    }
  }
  if (auto backends = reader.get("backends"))
    parseBackends(ctx, *backends, reader.childPath("backends"), service);
  if (auto mode = reader.choice("address_mode", {"first", "all"}))
    service.addressMode = *mode == "all" ? AddressMode::All : AddressMode::First;
  if (auto checks = reader.get("checks")) {
    const std::string checksPath = reader.childPath("checks");
    if (!checks->IsSequence()) {
      ctx.error(*checks, checksPath,
                std::string("expected a list of checks, got ") + yamlTypeName(*checks));
    } else {
      std::set<std::string> names;
      for (std::size_t i = 0; i < checks->size(); ++i) {
        const std::string checkPath = checksPath + "[" + std::to_string(i) + "]";
        auto check = parseCheck(ctx, (*checks)[i], checkPath);
        if (!check) continue;
        if (!check->name.empty() && !names.insert(check->name).second) {
          ctx.error(check->where, checkPath + ".name",
                    "duplicate check name \"" + check->name + "\" in service \"" +
                        service.name + "\"");
          continue;
        }
        service.checks.push_back(std::move(*check));
      }
    }
  }
  return service;
}

}  // namespace

void parseEnvironments(const YamlContext& ctx, const YAML::Node& node, Catalog& catalog) {
  if (!node.IsMap()) {
    ctx.error(node, "environments",
              std::string("expected a map name -> { tier: prod|nonprod }, got ") +
                  yamlTypeName(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string path = "environments." + name;
    if (!validName(name)) {
      ctx.error(it->first, path, "an environment name uses letters, digits, '-', '_' and '.' only");
      continue;
    }
    if (catalog.findEnvironment(name)) {
      ctx.error(it->first, path, "environment declared twice");
      continue;
    }
    MapReader reader(ctx, it->second, path, {"tier"});
    EnvironmentDef env{name, Tier::NonProd, ctx.at(it->first)};
    reader.requireKey("tier", "prod or nonprod");
    if (auto tier = reader.choice("tier", {"prod", "nonprod"}))
      env.tier = *tier == "prod" ? Tier::Prod : Tier::NonProd;
    catalog.environments.push_back(env);
  }
}

void parseServices(const YamlContext& ctx, const YAML::Node& node, Catalog& catalog) {
  if (!node.IsSequence()) {
    ctx.error(node, "services",
              std::string("expected a list of services, got ") + yamlTypeName(node));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "services[" + std::to_string(i) + "]";
    auto service = parseService(ctx, node[i], path);
    if (!service) continue;
    // Indexed: a catalog may hold 100,000 services, so no pairwise comparison.
    bool duplicate = false;
    if (!service->name.empty()) {
      auto [it, inserted] = catalog.serviceIndex.emplace(service->name, catalog.services.size());
      if (!inserted) {
        const ServiceDef& existing = catalog.services[it->second];
        ctx.error(service->where, path + ".name",
                  "service \"" + service->name + "\" is already declared at " +
                      existing.where.file + ":" + std::to_string(existing.where.line));
        duplicate = true;
      }
    }
    if (!duplicate) catalog.services.push_back(std::move(*service));
  }
}

}  // namespace envprobe
