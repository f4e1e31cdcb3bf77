#pragma once
// The web config file (`--web.config.file`) in the format of Prometheus' exporter-toolkit:
//
//   tls_server_config: { cert_file, key_file, client_auth_type, client_ca_file, min_version,
//                        max_version }
//   basic_auth_users: { <user>: <bcrypt hash> }
//
// Unknown keys are errors (a typo must not silently switch protection off). Relative file names
// are relative to the config file's directory.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace envprobe {

struct TlsServerConfig {
  std::string certFile;
  std::string keyFile;
  std::string clientAuthType = "NoClientCert";
  std::string clientCaFile;
  std::string minVersion = "TLS12";
  std::string maxVersion;  // empty: the newest the library offers
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;
  std::map<std::string, std::string> basicAuthUsers;  // user -> bcrypt hash

  bool empty() const { return !tls && basicAuthUsers.empty(); }
};

// "FILE:LINE:COL: what" (or "FILE: what" when there is no position).
class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `text`; `file` names it in errors and anchors relative paths. Throws WebConfigError.
WebConfig parseWebConfig(const std::string& text, const std::string& file);
// Reads and parses `file`. Throws WebConfigError (also when it cannot be read).
WebConfig loadWebConfig(const std::string& file);

// Whether `hash` is a well-formed bcrypt hash: $2a$, $2b$ or $2y$, cost 04..31, 53 characters
// of bcrypt's base64 alphabet.
bool isBcryptHash(const std::string& hash);

}  // namespace envprobe
