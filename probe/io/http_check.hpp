#pragma once
// One HTTP(S) probe as a libcurl easy handle: set up from the check's spec, run by the curl
// driver, read back into an Observation. Certificate expiry is captured during the handshake, so
// it is known even when verification fails (expired, self-signed, wrong name).
#include <curl/curl.h>

#include <string>

#include "checks/observation.hpp"
#include "probe/config/config_model.hpp"

namespace envprobe {

struct HttpRequest {
  const HttpCheckSpec* spec = nullptr;
  std::string url;             // with the hostname: Host header and SNI stay the hostname
  std::string hostname;
  int port = 0;                // the URL's port
  std::string connectAddress;  // IP literal to connect to; empty: curl resolves (not used here)
  int connectPort = 0;         // 0: the URL's port
  long timeoutMs = 10000;
};

class HttpCheck {
 public:
  explicit HttpCheck(const HttpRequest& request);
  ~HttpCheck();
  HttpCheck(const HttpCheck&) = delete;
  HttpCheck& operator=(const HttpCheck&) = delete;

  CURL* handle() { return easy_; }
  // Reads everything curl measured into an Observation (DNS time is added by the caller).
  Observation finish(CURLcode result);

 private:
  static std::size_t onBody(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* self);
  static CURLcode onSslContext(CURL* easy, void* sslCtx, void* self);

  CURL* easy_ = nullptr;
  curl_slist* requestHeaders_ = nullptr;
  curl_slist* connectTo_ = nullptr;
  std::int64_t bodyLimit_ = 0;
  bool bodyTooLarge_ = false;
  char errorBuffer_[CURL_ERROR_SIZE] = {0};
  Observation observation_;

 public:
  // Written by the TLS verify callback (public so the C callback can reach it).
  CertificateFacts cert_;
};

// Maps a curl result to the transport error kinds of an Observation.
TransportError transportErrorFor(CURLcode code, bool bodyTooLarge);

}  // namespace envprobe
