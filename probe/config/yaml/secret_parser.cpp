#include "probe/config/yaml/secret_parser.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "probe/base/text.hpp"
#include "probe/config/address_rules.hpp"

namespace envprobe {

namespace {

constexpr std::size_t kMaxSecretBytes = 64 * 1024;

std::string trimNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

SecretRead failed(std::string why) { return {"", std::move(why), ""}; }

}  // namespace

SecretRead readSecretFile(const std::string& configFile, const std::string& path) {
  namespace fs = std::filesystem;
  fs::path file(path);
  if (file.is_relative()) file = fs::path(configFile).parent_path() / file;
  const std::string name = "\"" + file.string() + "\"";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return failed("cannot read " + name + ": no such file");
  if (!S_ISREG(st.st_mode)) return failed(name + " is not a regular file");
  if (st.st_size > static_cast<off_t>(kMaxSecretBytes)) return failed(name + " is larger than 64 KiB");
  std::ifstream in(file, std::ios::binary);
  if (!in) return failed("cannot read " + name);
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = trimNewlines(text.str());
  if (value.empty()) return failed(name + " is empty");
  return {std::move(value), "", file.string()};
}

namespace {

SecretRead readSecretEnv(const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (!value) return failed("environment variable " + variable + " is not set");
  std::string text = trimNewlines(value);
  if (text.empty()) return failed("environment variable " + variable + " is empty");
  return {std::move(text), "", ""};
}

// Reads a map NAME -> file path / variable; `use` receives each secret. Errors never quote a
// secret's value.
template <typename Use>
void readMap(const YamlContext& ctx, const MapReader& http, const std::string& key, bool fromFile,
             std::vector<std::string>& files, Use use) {
  auto node = http.get(key);
  if (!node) return;
  const std::string path = http.childPath(key);
  if (!node->IsMap()) {
    ctx.error(*node, path, fromFile ? "expected a map name -> file" : "expected a map name -> variable");
    return;
  }
  for (auto it = node->begin(); it != node->end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string itemPath = path + "." + name;
    auto source = ctx.scalar(it->second, itemPath);
    if (!source) continue;
    const SecretRead secret = fromFile ? readSecretFile(ctx.file(), *source) : readSecretEnv(*source);
    if (!secret.error.empty()) {
      ctx.error(it->second, itemPath, secret.error);
      continue;
    }
    use(it->first, itemPath, name, secret.value);
    if (!secret.file.empty()) files.push_back(secret.file);
  }
}

}  // namespace

void parseSecrets(const YamlContext& ctx, const MapReader& http, HttpCheckSpec& spec) {
  CheckSecrets& secrets = spec.secrets;
  auto addHeader = [&](const YAML::Node& where, const std::string& path, const std::string& name,
                       const std::string& value) {
    if (auto error = headerNameError(name)) {
      ctx.error(where, path, *error);
      return;
    }
    if (headerValueError(value)) {
      ctx.error(where, path, "the secret's value has a control character (CR, LF or NUL)");
      return;
    }
    secrets.headers.emplace_back(name, value);
  };
  auto addQuery = [&](const YAML::Node&, const std::string&, const std::string& name,
                      const std::string& value) {
    if (!secrets.query.empty()) secrets.query += '&';
    secrets.query += urlEncode(name) + "=" + urlEncode(value);
  };
  if (auto file = http.string("bearer_token_file")) {
    const SecretRead token = readSecretFile(ctx.file(), *file);
    const YAML::Node where = *http.get("bearer_token_file");
    if (!token.error.empty())
      ctx.error(where, http.childPath("bearer_token_file"), token.error);
    else {
      addHeader(where, http.childPath("bearer_token_file"), "Authorization",
                "Bearer " + token.value);
      secrets.files.push_back(token.file);
    }
  }
  readMap(ctx, http, "headers_from_file", true, secrets.files, addHeader);
  readMap(ctx, http, "headers_from_env", false, secrets.files, addHeader);
  readMap(ctx, http, "query_from_file", true, secrets.files, addQuery);
  readMap(ctx, http, "query_from_env", false, secrets.files, addQuery);
}

}  // namespace envprobe
