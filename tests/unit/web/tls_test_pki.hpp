#pragma once
// Certificates made at test time with OpenSSL (a CA, leaves it signs, a self-signed one) and a
// blocking TLS client, for the TLS front end's tests. Everything on loopback; every socket has a
// 10 s receive and send timeout, so a broken server fails a test instead of hanging it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>

namespace envprobe::testing {

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  KeyAndCert() = default;
  KeyAndCert(const KeyAndCert&) = delete;
  KeyAndCert& operator=(const KeyAndCert&) = delete;
  ~KeyAndCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

inline void addExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error(std::string("test pki: bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A P-256 key and a certificate for `cn`, signed by `issuer` (nullptr: self-signed). A CA gets
// basicConstraints CA:TRUE; a leaf gets subjectAltName `san`.
inline std::unique_ptr<KeyAndCert> makeCert(const std::string& cn, const KeyAndCert* issuer,
                                            bool ca, const std::string& san = "", long serial = 1) {
  auto out = std::make_unique<KeyAndCert>();
  out->key = EVP_EC_gen("P-256");
  out->cert = X509_new();
  if (!out->key || !out->cert) throw std::runtime_error("test pki: out of memory");
  X509* cert = out->cert;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, out->key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuerCert = issuer ? issuer->cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuerCert));
  if (ca) {
    addExtension(cert, issuerCert, NID_basic_constraints, "critical,CA:TRUE");
    addExtension(cert, issuerCert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (!san.empty()) {
    addExtension(cert, issuerCert, NID_subject_alt_name, san.c_str());
  }
  if (X509_sign(cert, issuer ? issuer->key : out->key, EVP_sha256()) == 0)
    throw std::runtime_error("test pki: cannot sign");
  return out;
}

inline void writeCert(const std::string& path, X509* cert) {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  if (!bio || PEM_write_bio_X509(bio, cert) != 1) throw std::runtime_error("cannot write " + path);
  BIO_free(bio);
}

// `password` non-empty: an encrypted key (AES-128-CBC).
inline void writeKey(const std::string& path, EVP_PKEY* key, const std::string& password = "") {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  const EVP_CIPHER* cipher = password.empty() ? nullptr : EVP_aes_128_cbc();
  auto* pass = reinterpret_cast<unsigned char*>(const_cast<char*>(password.c_str()));
  if (!bio || PEM_write_bio_PrivateKey(bio, key, cipher, password.empty() ? nullptr : pass,
                                       static_cast<int>(password.size()), nullptr, nullptr) != 1)
    throw std::runtime_error("cannot write " + path);
  BIO_free(bio);
}

// The common name of the certificate a context serves.
inline std::string servedCommonName(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (!cert) return "<none>";
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

inline int connectLoopback(int port, bool ipv6 = false) {
  // The test client writes with OpenSSL's socket BIO (write()); a server that hangs up must
  // fail the test, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  const int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (ipv6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    addr.sin6_addr = in6addr_loopback;
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  return fd;
}

// Everything the peer sends until it closes (or 10 s pass).
inline std::string readAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

struct TlsClientOptions {
  std::string caFile;    // verify the server against it (and its name 127.0.0.1)
  int maxVersion = 0;    // 0: the library's newest
  std::string certFile;  // a client certificate, if any
  std::string keyFile;
  bool ipv6 = false;
};

// One HTTPS request "GET path" with `headers`; the whole response, or "<handshake failed>".
inline std::string tlsGet(int port, const std::string& path, const TlsClientOptions& options,
                          const std::string& headers = "") {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_load_verify_locations(ctx.get(), options.caFile.c_str(), nullptr);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (options.maxVersion) SSL_CTX_set_max_proto_version(ctx.get(), options.maxVersion);
  if (!options.certFile.empty()) {
    SSL_CTX_use_certificate_file(ctx.get(), options.certFile.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx.get(), options.keyFile.c_str(), SSL_FILETYPE_PEM);
  }
  const int fd = connectLoopback(port, options.ipv6);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), options.ipv6 ? "::1" : "127.0.0.1");
  std::string response;
  if (SSL_connect(ssl.get()) != 1) {
    response = "<handshake failed>";
  } else {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n";
    SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
    char buf[4096];
    for (int n; (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;) response.append(buf, n);
  }
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  return response;
}

}  // namespace envprobe::testing
