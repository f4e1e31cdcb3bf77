#include "probe/config/config_model.hpp"

namespace envprobe {

const char* toString(ValueSource::Kind kind) {
  switch (kind) {
    case ValueSource::Kind::None: return "none";
    case ValueSource::Kind::Json: return "json";
    case ValueSource::Kind::Header: return "header";
    case ValueSource::Kind::Regex: return "regex";
  }
  return "none";
}

const char* toString(Fact fact) {
  switch (fact) {
    case Fact::Server: return "server";
    case Fact::Certificate: return "certificate";
    case Fact::Addresses: return "addresses";
    case Fact::Version: return "version";
    case Fact::Body: return "body";
  }
  return "server";
}

std::optional<Fact> factFromString(const std::string& name) {
  for (Fact fact : kAllFacts)
    if (name == toString(fact)) return fact;
  return std::nullopt;
}

const EnvironmentDef* Catalog::findEnvironment(const std::string& name) const {
  for (const auto& env : environments)
    if (env.name == name) return &env;
  return nullptr;
}

}  // namespace envprobe
