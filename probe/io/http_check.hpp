#pragma once
// One HTTP(S) probe as a libcurl easy handle: set up from the check's spec, run by the curl
// driver, read back into an Observation. Certificate expiry is captured during the handshake, so
// it is known even when verification fails (expired, self-signed, wrong name). curl never follows
// redirects itself (the prober does, hop by hop, inside the environment) and speaks only HTTP(S).
// What a target sends is bounded: the body by the check's body_limit, headers by kMaxHeaderBytes.
// Every probe makes a fresh connection and a full TLS handshake (no connection reuse, no session
// resumption); only the parsed CA certificates are shared between probes (ca_store.hpp).
// A check (its easy handle) is reused for later probes, of any target: prepare() sets every
// option a request decides, comparing by value what it kept from the last one (URL, header and
// connect-to lists), so nothing of an earlier target or an earlier config survives; a different
// TLS setup resets the handle to curl's defaults first.
#include <curl/curl.h>

#include <string>

#include "checks/observation.hpp"
#include "probe/config/config_model.hpp"
#include "probe/io/ca_store.hpp"
#include "probe/io/ports.hpp"

namespace envprobe {


class HttpCheck {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 256 * 1024;  // all header lines of one response

  // With `caStores`, an HTTPS probe that verifies its peer trusts the shared store of its CA
  // file instead of curl loading the file for this connection; without, curl's defaults.
  explicit HttpCheck(const HttpRequest& request, CaStores* caStores = nullptr);
  ~HttpCheck();
  HttpCheck(const HttpCheck&) = delete;
  HttpCheck& operator=(const HttpCheck&) = delete;

  // Sets the handle up for the next probe; only between transfers (after finish(), or after the
  // transfer was aborted).
  void prepare(const HttpRequest& request);

  CURL* handle() { return easy_; }
  // What the handle was last given (for tests).
  const curl_slist* headerList() const { return requestHeaders_; }
  const curl_slist* connectToList() const { return connectTo_; }
  std::size_t resets() const { return resets_; }
  // Reads everything curl measured into an Observation (DNS time is added by the caller).
  Observation finish(CURLcode result);

 private:
  static std::size_t onBody(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* self);
  static CURLcode onSslContext(CURL* easy, void* sslCtx, void* self);
  void setFixedOptions();
  void prepareHeaders(const HttpRequest& request);
  void prepareConnectTo(const HttpRequest& request);

  CURL* easy_ = nullptr;
  bool configured_ = false;
  std::size_t resets_ = 0;
  curl_slist* requestHeaders_ = nullptr;
  // The CONNECT_TO list: one node of our own pointing into connectRule_ (curl only reads the
  // list), so a probe of another target than the handle's last costs no list allocation.
  curl_slist connectToNode_{};
  curl_slist* connectTo_ = nullptr;  // &connectToNode_ or nullptr
  std::string url_;          // as given to curl
  std::string customMethod_;  // CURLOPT_CUSTOMREQUEST as given ("": none)
  std::string connectRule_;  // the one CONNECT_TO entry ("": none)
  std::string scratch_;
  bool verifyOff_ = false;   // the TLS setup the handle has
  bool wantedStore_ = false;
  bool sharedStore_ = false;  // wanted, and curl could do it
  std::string tlsCaFile_;
  CaStores* availableStores_ = nullptr;
  std::int64_t bodyLimit_ = 0;
  bool bodyTooLarge_ = false;
  std::size_t headerBytes_ = 0;
  bool headersTooLarge_ = false;
  char errorBuffer_[CURL_ERROR_SIZE] = {0};
  CaStores* caStores_ = nullptr;  // set when the shared CA store is used
  std::string caFile_;            // the check's tls.ca_file ("": the default bundle)
  std::string caError_;           // why the CA file could not be loaded
  Observation observation_;

 public:
  // Written by the TLS verify callback (public so the C callback can reach it).
  CertificateFacts cert_;
};

// Maps a curl result to the transport error kinds of an Observation.
TransportError transportErrorFor(CURLcode code, bool bodyTooLarge);

}  // namespace envprobe
