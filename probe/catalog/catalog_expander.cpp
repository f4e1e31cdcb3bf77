#include "probe/catalog/catalog_expander.hpp"

#include "probe/catalog/instance_label.hpp"

namespace envprobe {

namespace {

std::string expandEnv(std::string text, const std::string& env) {
  const std::string token = "{env}";
  for (auto pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos)) {
    text.replace(pos, token.size(), env);
    pos += env.size();
  }
  return text;
}

}  // namespace

std::vector<std::string> hostnamesFor(const HostnameSpec& spec, const std::string& env) {
  std::vector<std::string> out;
  if (!spec.perEnvironment) {
    for (const auto& name : spec.all) out.push_back(expandEnv(name, env));
    return out;
  }
  auto it = spec.byEnv.find(env);
  if (it == spec.byEnv.end()) return out;
  for (const auto& name : it->second) out.push_back(expandEnv(name, env));
  return out;
}

bool speaksFor(const HostnameSpec& spec, const std::string& env) {
  if (!spec.declared) return false;
  return !spec.perEnvironment || spec.byEnv.count(env) > 0;
}

std::vector<Target> CatalogExpander::expandService(const ServiceDef& service,
                                                   const std::string& env) const {
  std::vector<Target> targets;
  const EnvironmentDef* envDef = config_.catalog.findEnvironment(env);
  const Tier tier = envDef ? envDef->tier : Tier::NonProd;
  std::vector<std::string> backends;
  if (auto it = service.backends.find(env); it != service.backends.end()) backends = it->second;
  if (backends.empty()) backends.push_back("");

  for (const auto& check : service.checks) {
    if (!check.http) continue;
    const HttpCheckSpec& http = *check.http;
    const int defaultPort = http.scheme == "https" ? 443 : 80;
    const int port = http.port.value_or(defaultPort);
    for (Visibility visibility : {Visibility::Internal, Visibility::Public}) {
      const HostnameSpec& spec =
          visibility == Visibility::Internal ? service.internal : service.publicNames;
      for (const auto& hostname : hostnamesFor(spec, env)) {
        for (const auto& backend : backends) {
          Target t;
          t.env = env;
          t.tier = tier;
          t.service = service.name;
          t.check = check.name;
          t.hostname = hostname;
          t.visibility = visibility;
          t.backend = backend;
          t.id = env + "/" + service.name + "/" + check.name + "/" + toString(visibility) + "/" +
                 hostname + (backend.empty() ? "" : "@" + backend);
          t.port = port;
          t.url = http.scheme + "://" + hostname +
                  (port == defaultPort ? "" : ":" + std::to_string(port)) + http.path;
          t.interval = check.interval.value_or(config_.defaults.interval);
          t.timeout = check.timeout.value_or(config_.defaults.timeout);
          t.addressMode = service.addressMode.value_or(config_.defaults.addressMode);
          t.http = check.http;
          // Built by appending: without this each keeps up to twice its length for the
          // agent's whole life.
          t.id.shrink_to_fit();
          t.url.shrink_to_fit();
          targets.push_back(std::move(t));
        }
      }
    }
  }
  return targets;
}

std::vector<Target> CatalogExpander::expand(const std::string& env) const {
  std::vector<Target> targets;
  for (const auto& service : config_.catalog.services) {
    auto more = expandService(service, env);
    targets.insert(targets.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
  }
  assignInstances(targets);
  return targets;
}

}  // namespace envprobe
