#include "probe/web/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "probe/base/logging.hpp"

namespace envprobe {

namespace {

// OpenSSL's reasons for the last failure, oldest first and each once ("No such file or
// directory", "no start line", "key values mismatch"), and an empty error queue.
std::string opensslReason() {
  std::vector<std::string> reasons;
  for (unsigned long code; (code = ERR_get_error()) != 0;) {
    const char* text = ERR_reason_error_string(code);
    std::string reason = ERR_SYSTEM_ERROR(code) ? std::strerror(ERR_GET_REASON(code))
                         : text                 ? text
                                                : "error " + std::to_string(ERR_GET_REASON(code));
    if (reason == "system lib" && !reasons.empty()) continue;  // the wrapper of an errno
    if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end())
      reasons.push_back(std::move(reason));
  }
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out.empty() ? "unknown OpenSSL error" : out;
}

[[noreturn]] void failWith(const std::string& what) {
  throw std::runtime_error(what + ": " + opensslReason());
}

// No password prompt on the terminal for an encrypted key: loading it fails instead.
int noPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

// RequestClientCert and RequireAnyClientCert take any client certificate, as in Go.
int acceptAnyCertificate(int /*preverifyOk*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

int tlsVersionNumber(const std::string& name) {
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS12") return TLS1_2_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  return 0;
}

std::optional<std::string> tlsConfigError(const TlsServerConfig& tls) {
  for (const auto& [key, value] :
       {std::pair{"min_version", tls.minVersion}, std::pair{"max_version", tls.maxVersion}}) {
    if (value == "TLS10" || value == "TLS11")
      return std::string("tls_server_config.") + key + " " + value +
             ": not available (OpenSSL 3 allows TLS 1.0 and 1.1 only at security level 0); "
             "use TLS12 or TLS13";
    if (!value.empty() && tlsVersionNumber(value) == 0)
      return std::string("tls_server_config.") + key + ": unknown value \"" + value + "\"";
  }
  if (!tls.maxVersion.empty() &&
      tlsVersionNumber(tls.minVersion) > tlsVersionNumber(tls.maxVersion))
    return "tls_server_config: min_version " + tls.minVersion + " is above max_version " +
           tls.maxVersion;
  return std::nullopt;
}

ClientAuthMode clientAuthMode(const std::string& type) {
  if (type == "RequestClientCert") return {true, false, false};
  if (type == "RequireAnyClientCert") return {true, true, false};
  if (type == "VerifyClientCertIfGiven") return {true, false, true};
  if (type == "RequireAndVerifyClientCert") return {true, true, true};
  return {};
}

void SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

SslCtxPtr makeServerContext(const TlsServerConfig& tls) {
  if (auto error = tlsConfigError(tls)) throw std::runtime_error(*error);
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) failWith("tls_server_config: cannot create an OpenSSL context");
  SSL_CTX* c = ctx.get();
  const int minVersion = tlsVersionNumber(tls.minVersion.empty() ? "TLS12" : tls.minVersion);
  if (SSL_CTX_set_min_proto_version(c, minVersion) != 1)
    failWith("tls_server_config.min_version " + tls.minVersion);
  if (!tls.maxVersion.empty() &&
      SSL_CTX_set_max_proto_version(c, tlsVersionNumber(tls.maxVersion)) != 1)
    failWith("tls_server_config.max_version " + tls.maxVersion);
  // No client-initiated renegotiation (a cheap way to make the server work), the server's cipher
  // order, and a peer's EOF without close_notify read as an ordinary end of stream.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                             SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
  // Non-blocking relaying: a write may complete in part and be retried from a moved buffer;
  // idle connections give their read and write buffers back.
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(c, tls.certFile.c_str()) != 1)
    failWith("tls_server_config.cert_file \"" + tls.certFile +
             "\": cannot load a PEM certificate (chain)");
  EVP_PKEY* key = nullptr;
  if (BIO* bio = BIO_new_file(tls.keyFile.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(bio, nullptr, noPassword, nullptr);
    BIO_free(bio);
  }
  if (!key)
    failWith("tls_server_config.key_file \"" + tls.keyFile +
             "\": cannot load an unencrypted PEM private key");
  const int matches = X509_check_private_key(SSL_CTX_get0_certificate(c), key);
  const int used = matches == 1 ? SSL_CTX_use_PrivateKey(c, key) : 0;
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(c) != 1)
    failWith("tls_server_config: key_file \"" + tls.keyFile + "\" does not match cert_file \"" +
             tls.certFile + "\"");
  static const unsigned char kSessionContext[] = "envprobe";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);

  const ClientAuthMode mode = clientAuthMode(tls.clientAuthType);
  if (!tls.clientCaFile.empty()) {
    // The CA names go into the CertificateRequest as a hint, whatever the mode.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.clientCaFile.c_str());
    if (!names)
      failWith("tls_server_config.client_ca_file \"" + tls.clientCaFile +
               "\": cannot load PEM certificates");
    SSL_CTX_set_client_CA_list(c, names);
    if (mode.verifyChain &&
        SSL_CTX_load_verify_locations(c, tls.clientCaFile.c_str(), nullptr) != 1)
      failWith("tls_server_config.client_ca_file \"" + tls.clientCaFile +
               "\": cannot load PEM certificates");
  }
  if (mode.request) {
    const int verify = SSL_VERIFY_PEER | (mode.require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(c, verify, mode.verifyChain ? nullptr : acceptAnyCertificate);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

FileStamp stampFile(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return {true, static_cast<long long>(st.st_mtim.tv_sec),
          static_cast<long long>(st.st_mtim.tv_nsec), static_cast<long long>(st.st_size),
          static_cast<unsigned long long>(st.st_ino)};
}

TlsContextSource::TlsContextSource(TlsServerConfig tls, std::chrono::milliseconds checkEvery)
    : tls_(std::move(tls)), checkEvery_(checkEvery) {
  applied_ = stamps();  // before reading: a change while reading shows at the next look
  ctx_ = makeServerContext(tls_);
}

std::vector<FileStamp> TlsContextSource::stamps() const {
  return {stampFile(tls_.certFile), stampFile(tls_.keyFile), stampFile(tls_.clientCaFile)};
}

SSL_CTX* TlsContextSource::current(Clock::time_point now) {
  if (lastCheck_ && now - *lastCheck_ < checkEvery_) return ctx_.get();
  lastCheck_ = now;
  const auto seen = stamps();
  if (seen == applied_) return ctx_.get();
  try {
    ctx_ = makeServerContext(tls_);
    applied_ = seen;
    failed_.clear();
    ++reloads_;
    logInfo("reloaded the TLS certificate", {{"cert_file", tls_.certFile}});
  } catch (const std::exception& e) {
    if (seen != failed_)
      logWarn("cannot reload the TLS certificate; serving the previous one", {{"err", e.what()}});
    failed_ = seen;
  }
  return ctx_.get();
}

}  // namespace envprobe
