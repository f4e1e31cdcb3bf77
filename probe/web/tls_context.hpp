#pragma once
// The OpenSSL server context of the endpoint's TLS front end, made from tls_server_config:
// certificate chain and key, protocol versions, client certificates. And its reload when the
// certificate, key or client CA file changes on disk, so a rotated certificate is served without
// a restart.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/web/web_config.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace envprobe {

// "TLS10" .. "TLS13" -> OpenSSL's protocol version number; 0 for anything else (also "").
int tlsVersionNumber(const std::string& name);

// What this build cannot honour in `tls`, in words for an operator, or nullopt. Pure. OpenSSL 3
// allows TLS 1.0 and 1.1 only at security level 0, so versions below TLS12 are refused rather
// than silently not offered; a min_version above max_version is refused too.
std::optional<std::string> tlsConfigError(const TlsServerConfig& tls);

// How a client_auth_type asks for client certificates.
struct ClientAuthMode {
  bool request = false;      // send a CertificateRequest
  bool require = false;      // fail the handshake without a client certificate
  bool verifyChain = false;  // check the certificate against client_ca_file
};
// For one of the five exporter-toolkit values (web_config validated it); unknown: NoClientCert.
ClientAuthMode clientAuthMode(const std::string& type);

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A server context for `tls`. Throws std::runtime_error that names the setting, the file and
// OpenSSL's reason (unreadable file, not PEM, encrypted key, key not matching the certificate).
SslCtxPtr makeServerContext(const TlsServerConfig& tls);

// A file's identity and modification time, to notice that it was replaced or rewritten.
struct FileStamp {
  bool exists = false;
  long long mtimeSec = 0;
  long long mtimeNsec = 0;
  long long size = 0;
  unsigned long long inode = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp stampFile(const std::string& path);

// The current context, rebuilt when a file changed. Used by the front end's thread only.
class TlsContextSource {
 public:
  using Clock = std::chrono::steady_clock;
  // Builds the first context; throws like makeServerContext (and for tlsConfigError).
  explicit TlsContextSource(TlsServerConfig tls,
                            std::chrono::milliseconds checkEvery = std::chrono::seconds(1));

  // The context for a new connection. Looks at the files at most once per `checkEvery`; when
  // one changed, builds a new context and serves it from now on. A new context that fails to
  // build (a half-written file, a key that does not match yet) is logged once per change and
  // tried again at the next look; the last good context stays in use meanwhile. Connections
  // already open keep the context they started with (OpenSSL counts references).
  SSL_CTX* current(Clock::time_point now);
  int reloads() const { return reloads_; }

 private:
  std::vector<FileStamp> stamps() const;

  TlsServerConfig tls_;
  std::chrono::milliseconds checkEvery_;
  SslCtxPtr ctx_;
  std::vector<FileStamp> applied_;  // the files as they were when ctx_ was built
  std::vector<FileStamp> failed_;   // the files when a rebuild last failed (logged once)
  std::optional<Clock::time_point> lastCheck_;
  int reloads_ = 0;
};

}  // namespace envprobe
