#include "probe/web/web_config.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace envprobe {
namespace {

[[noreturn]] void failAt(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  if (mark.is_null()) throw WebConfigError(file + ": " + what);
  throw WebConfigError(file + ":" + std::to_string(mark.line + 1) + ":" +
                       std::to_string(mark.column + 1) + ": " + what);
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void requireMap(const YAML::Node& node, const std::string& where) const {
    if (!node.IsMap()) failAt(file_, node.Mark(), where + ": must be a mapping");
  }

  // Fails on the first key of `node` not in `known`.
  void onlyKeys(const YAML::Node& node, const std::string& where,
                const std::set<std::string>& known) const {
    for (const auto& entry : node) {
      const std::string key = scalar(entry.first, where + " key");
      if (!known.count(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        failAt(file_, entry.first.Mark(),
               where + ": unknown key \"" + key + "\" (known: " + list + ")");
      }
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& where) const {
    if (!node.IsScalar()) failAt(file_, node.Mark(), where + ": must be a string");
    return node.Scalar();
  }

  std::string path(const YAML::Node& node, const std::string& where) const {
    const std::string value = scalar(node, where);
    if (value.empty()) failAt(file_, node.Mark(), where + ": must not be empty");
    const std::filesystem::path p(value);
    if (p.is_absolute()) return value;
    return (std::filesystem::path(file_).parent_path() / p).string();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

const std::set<std::string> kClientAuthTypes = {"NoClientCert", "RequestClientCert",
                                                "RequireAnyClientCert", "VerifyClientCertIfGiven",
                                                "RequireAndVerifyClientCert"};
const std::set<std::string> kTlsVersions = {"TLS10", "TLS11", "TLS12", "TLS13"};

TlsServerConfig parseTls(const Reader& r, const YAML::Node& node) {
  const std::string where = "tls_server_config";
  r.requireMap(node, where);
  r.onlyKeys(node, where,
             {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
              "max_version"});
  TlsServerConfig tls;
  if (node["cert_file"]) tls.certFile = r.path(node["cert_file"], where + ".cert_file");
  if (node["key_file"]) tls.keyFile = r.path(node["key_file"], where + ".key_file");
  if (tls.certFile.empty() != tls.keyFile.empty())
    failAt(r.file(), node.Mark(),
           where + ": cert_file and key_file must be given together (got only " +
               (tls.certFile.empty() ? "key_file" : "cert_file") + ")");
  if (tls.certFile.empty())
    failAt(r.file(), node.Mark(), where + ": cert_file and key_file are required");
  if (node["client_auth_type"]) {
    tls.clientAuthType = r.scalar(node["client_auth_type"], where + ".client_auth_type");
    if (!kClientAuthTypes.count(tls.clientAuthType))
      failAt(r.file(), node["client_auth_type"].Mark(),
             where + ".client_auth_type: unknown value \"" + tls.clientAuthType +
                 "\" (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                 "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
  }
  if (node["client_ca_file"])
    tls.clientCaFile = r.path(node["client_ca_file"], where + ".client_ca_file");
  const bool verifies = tls.clientAuthType == "VerifyClientCertIfGiven" ||
                        tls.clientAuthType == "RequireAndVerifyClientCert";
  if (verifies && tls.clientCaFile.empty())
    failAt(r.file(), node.Mark(),
           where + ": client_auth_type " + tls.clientAuthType + " needs client_ca_file");
  for (auto [key, field] : {std::pair{"min_version", &tls.minVersion},
                            std::pair{"max_version", &tls.maxVersion}}) {
    if (!node[key]) continue;
    *field = r.scalar(node[key], where + "." + key);
    if (!kTlsVersions.count(*field))
      failAt(r.file(), node[key].Mark(),
             where + "." + key + ": unknown value \"" + *field + "\" (TLS10, TLS11, TLS12 or TLS13)");
  }
  return tls;
}

}  // namespace

bool isBcryptHash(const std::string& hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$')
    return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (std::size_t i = 7; i < hash.size(); ++i) {
    const char c = hash[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

WebConfig parseWebConfig(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    failAt(file, e.mark, e.msg);
  }
  WebConfig config;
  if (root.IsNull()) return config;  // an empty file: plain HTTP, no auth
  const Reader r(file);
  r.requireMap(root, "web config");
  r.onlyKeys(root, "web config", {"tls_server_config", "basic_auth_users"});
  if (root["tls_server_config"]) config.tls = parseTls(r, root["tls_server_config"]);
  if (const YAML::Node users = root["basic_auth_users"]) {
    if (users.IsNull()) return config;
    r.requireMap(users, "basic_auth_users");
    for (const auto& entry : users) {
      const std::string user = r.scalar(entry.first, "basic_auth_users key");
      const std::string where = "basic_auth_users." + user;
      if (user.empty()) failAt(file, entry.first.Mark(), "basic_auth_users: empty user name");
      if (user.find(':') != std::string::npos)
        failAt(file, entry.first.Mark(), where + ": a user name cannot contain ':'");
      const std::string hash = r.scalar(entry.second, where);
      if (!isBcryptHash(hash))
        failAt(file, entry.second.Mark(),
               where + ": not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters); "
                       "make one with `htpasswd -nbB USER PASSWORD`");
      if (!config.basicAuthUsers.emplace(user, hash).second)
        failAt(file, entry.first.Mark(), where + ": duplicate user");
    }
  }
  return config;
}

WebConfig loadWebConfig(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw WebConfigError(file + ": cannot read the web config file");
  std::stringstream text;
  text << in.rdbuf();
  WebConfig config = parseWebConfig(text.str(), file);
  if (config.tls) {
    for (const auto& [what, path] : {std::pair{"cert_file", config.tls->certFile},
                                     std::pair{"key_file", config.tls->keyFile},
                                     std::pair{"client_ca_file", config.tls->clientCaFile}}) {
      if (!path.empty() && !std::ifstream(path))
        throw WebConfigError(file + ": tls_server_config." + what + ": cannot read \"" + path +
                             "\"");
    }
  }
  return config;
}

}  // namespace envprobe
