#include "probe/io/http_check.hpp"

#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <strings.h>

#include <string_view>

#include "probe/base/utf8.hpp"
#include "probe/io/tls_info.hpp"

namespace envprobe {

namespace {

int sslContextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void noteCertificate(CertificateFacts& facts, X509* cert) {
  if (!cert) return;
  const std::int64_t expiry = notAfterUnix(cert);
  if (expiry == 0) return;
  if (!facts.present || expiry < facts.earliestExpiryUnix) facts.earliestExpiryUnix = expiry;
  facts.present = true;
}

// Called by OpenSSL while verifying the peer's chain, also when verification fails. It only
// records what it sees; the verification outcome is OpenSSL's and curl's.
int onVerify(int preverifyOk, X509_STORE_CTX* storeCtx) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(storeCtx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* check = ssl ? static_cast<HttpCheck*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
                                                                  sslContextIndex()))
                    : nullptr;
  if (check) {
    // The chain the server sent (the leaf first), whatever the error is and wherever it is found.
    if (STACK_OF(X509)* sent = X509_STORE_CTX_get0_untrusted(storeCtx)) {
      for (int i = 0; i < sk_X509_num(sent); ++i) noteCertificate(check->cert_, sk_X509_value(sent, i));
    }
    noteCertificate(check->cert_, X509_STORE_CTX_get_current_cert(storeCtx));
  }
  return preverifyOk;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

}  // namespace

TransportError transportErrorFor(CURLcode code, bool bodyTooLarge) {
  if (bodyTooLarge) return TransportError::BodyTooLarge;
  // CURLE_UNSUPPORTED_PROTOCOL is a hop outside http/https: the prober never gets there, since
  // it checks each Location itself, but a bad URL in the config would.
  switch (code) {
    case CURLE_OK: return TransportError::None;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR: return TransportError::Connect;
    case CURLE_OPERATION_TIMEDOUT: return TransportError::Timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return TransportError::Tls;
    case CURLE_TOO_MANY_REDIRECTS: return TransportError::Redirects;
    case CURLE_FILESIZE_EXCEEDED: return TransportError::BodyTooLarge;
    default: return TransportError::Other;
  }
}

HttpCheck::HttpCheck(const HttpRequest& request, CaStores* caStores)
    : availableStores_(caStores) {
  easy_ = curl_easy_init();
  prepare(request);
}

HttpCheck::~HttpCheck() {
  curl_easy_cleanup(easy_);
  curl_slist_free_all(requestHeaders_);
}

void HttpCheck::setFixedOptions() {
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errorBuffer_);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "envprobe/" ENVPROBE_VERSION);
  // A fresh connection per probe, so connect and TLS are measured every time.
  curl_easy_setopt(easy_, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(easy_, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpCheck::onBody);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &HttpCheck::onHeader);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
}

void HttpCheck::prepare(const HttpRequest& request) {
  const HttpCheckSpec& spec = *request.spec;
  // What the last probe left behind.
  observation_ = Observation{};
  cert_ = CertificateFacts{};
  caError_.clear();
  errorBuffer_[0] = 0;
  bodyTooLarge_ = false;
  headerBytes_ = 0;
  headersTooLarge_ = false;
  bodyLimit_ = spec.bodyLimitBytes;

  // The TLS setup: the shared CA store (installed by onSslContext; curl loads no CA itself and
  // its own CA cache is off, or it would put its cached store, of whichever file it saw last, in
  // place of ours), curl's defaults, or the check's CA file for curl to load.
  const bool verifyOff = spec.tls.insecureSkipVerify;
  const bool sharedStore = availableStores_ && !verifyOff && availableStores_->covers(spec.tls.caFile);
  if (!configured_ || verifyOff != verifyOff_ || sharedStore != wantedStore_ ||
      spec.tls.caFile != tlsCaFile_) {
    if (configured_) {
      curl_easy_reset(easy_);  // back to curl's defaults, CA locations included
      ++resets_;
    }
    configured_ = true;
    url_.clear();
    customMethod_.clear();
    connectRule_.clear();
    curl_slist_free_all(requestHeaders_);
    requestHeaders_ = nullptr;
    connectTo_ = nullptr;
    setFixedOptions();
    verifyOff_ = verifyOff;
    wantedStore_ = sharedStore;
    tlsCaFile_ = spec.tls.caFile;
    if (verifyOff) {
      curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // The callback records the certificates (also for an http URL: a redirect may go to https).
    const bool sslContextCallback =
        curl_easy_setopt(easy_, CURLOPT_SSL_CTX_FUNCTION, &HttpCheck::onSslContext) == CURLE_OK;
    curl_easy_setopt(easy_, CURLOPT_SSL_CTX_DATA, this);
    sharedStore_ = sharedStore && sslContextCallback &&
                   curl_easy_setopt(easy_, CURLOPT_CA_CACHE_TIMEOUT, 0L) == CURLE_OK;
    if (sharedStore_) {
      curl_easy_setopt(easy_, CURLOPT_CAINFO, nullptr);
      curl_easy_setopt(easy_, CURLOPT_CAPATH, nullptr);
    } else if (!spec.tls.caFile.empty()) {
      curl_easy_setopt(easy_, CURLOPT_CAINFO, spec.tls.caFile.c_str());
    }
  }
  caStores_ = sharedStore_ ? availableStores_ : nullptr;
  caFile_ = sharedStore_ ? spec.tls.caFile : std::string();

  if (request.url != url_) {
    url_ = request.url;
    curl_easy_setopt(easy_, CURLOPT_URL, url_.c_str());
  }
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, std::max(1L, request.timeoutMs));

  // The method, from GET: POSTFIELDS (even unset) makes a POST, so it goes first.
  const std::string& method = request.method.empty() ? spec.method : request.method;
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, -1L);
  curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  if (method == "HEAD") curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
  static const std::string kNone;
  const std::string& custom = method == "HEAD" || method == "GET" ? kNone : method;
  if (custom != customMethod_) {
    customMethod_ = custom;
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, custom.empty() ? nullptr : custom.c_str());
  }
  if (request.sendBody && (!spec.body.empty() || method == "POST" || method == "PUT" ||
                           method == "PATCH")) {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, static_cast<long>(spec.body.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, spec.body.c_str());  // the spec outlives the probe
  }
  prepareHeaders(request);
  prepareConnectTo(request);
}

namespace {

// Whether an slist holds exactly "name: value" for each pair of the lists, in order.
bool sameHeaders(const curl_slist* list, const HttpCheckSpec& spec) {
  for (const auto* pairs : {&spec.headers, &spec.secrets.headers}) {
    for (const auto& [name, value] : *pairs) {
      if (!list) return false;
      const std::string_view line(list->data);
      if (line.size() != name.size() + 2 + value.size() || line.compare(0, name.size(), name) != 0 ||
          line.compare(name.size(), 2, ": ") != 0 || line.compare(name.size() + 2, value.size(), value) != 0)
        return false;
      list = list->next;
    }
  }
  return list == nullptr;
}

}  // namespace

void HttpCheck::prepareHeaders(const HttpRequest& request) {
  // Like curl's own rule for Authorization: custom headers are not sent to another origin.
  const HttpCheckSpec& spec = *request.spec;
  const bool wanted =
      request.sendCustomHeaders && !(spec.headers.empty() && spec.secrets.headers.empty());
  if (!wanted) {
    if (requestHeaders_) {
      curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
      curl_slist_free_all(requestHeaders_);
      requestHeaders_ = nullptr;
    }
    return;
  }
  if (requestHeaders_ && sameHeaders(requestHeaders_, spec)) return;
  curl_slist* list = nullptr;
  for (const auto* pairs : {&spec.headers, &spec.secrets.headers}) {
    for (const auto& [name, value] : *pairs) {
      scratch_.assign(name).append(": ").append(value);
      list = curl_slist_append(list, scratch_.c_str());
    }
  }
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, list);
  curl_slist_free_all(requestHeaders_);
  requestHeaders_ = list;
}

void HttpCheck::prepareConnectTo(const HttpRequest& request) {
  scratch_.clear();
  if (!request.connectAddress.empty()) {
    const bool v6 = request.connectAddress.find(':') != std::string::npos;
    const int connectPort = request.connectPort ? request.connectPort : request.port;
    scratch_.append(request.hostname).append(":").append(std::to_string(request.port)).append(":");
    if (v6) scratch_.append("[").append(request.connectAddress).append("]");
    else scratch_.append(request.connectAddress);
    scratch_.append(":").append(std::to_string(connectPort));
  }
  if (scratch_ == connectRule_) return;
  connectRule_.swap(scratch_);  // both keep their buffers for the next probes
  connectToNode_.data = connectRule_.data();
  connectToNode_.next = nullptr;
  connectTo_ = connectRule_.empty() ? nullptr : &connectToNode_;
  curl_easy_setopt(easy_, CURLOPT_CONNECT_TO, connectTo_);
}

CURLcode HttpCheck::onSslContext(CURL* /*easy*/, void* sslCtx, void* self) {
  auto* ctx = static_cast<SSL_CTX*>(sslCtx);
  auto* check = static_cast<HttpCheck*>(self);
  if (check->caStores_) {
    X509_STORE* store = check->caStores_->acquire(check->caFile_, check->caError_);
    if (!store) return CURLE_SSL_CACERT_BADFILE;  // as curl fails a CA file it cannot load
    SSL_CTX_set_cert_store(ctx, store);           // takes over the reference
  }
  SSL_CTX_set_ex_data(ctx, sslContextIndex(), self);
  // Keep curl's verify mode; only add the callback that records the certificates.
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), &onVerify);
  return CURLE_OK;
}

std::size_t HttpCheck::onBody(char* data, std::size_t size, std::size_t n, void* self) {
  auto* check = static_cast<HttpCheck*>(self);
  const std::size_t bytes = size * n;
  auto& body = check->observation_.body;
  if (static_cast<std::int64_t>(body.size() + bytes) > check->bodyLimit_) {
    check->bodyTooLarge_ = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (body.size() + bytes > body.capacity()) {
    // Grow geometrically but never past the limit, so a body costs at most body_limit bytes.
    const auto limit = static_cast<std::size_t>(check->bodyLimit_);
    body.reserve(std::min(limit, std::max(body.size() + bytes, 2 * body.capacity())));
  }
  body.append(data, bytes);
  return bytes;
}

std::size_t HttpCheck::onHeader(char* data, std::size_t size, std::size_t n, void* self) {
  auto* check = static_cast<HttpCheck*>(self);
  const std::size_t bytes = size * n;
  check->headerBytes_ += bytes;
  if (check->headerBytes_ > kMaxHeaderBytes) {
    check->headersTooLarge_ = true;
    return 0;  // aborts the transfer
  }
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    check->observation_.headers.clear();  // a new response (100-continue)
    check->headerBytes_ = bytes;
    // The connection is open now (it is closed before finish()): read its TLS facts once.
    if (!check->observation_.tls.present) readTlsFacts(check->easy_, check->observation_.tls);
    return bytes;
  }
  const auto colon = line.find(':');
  // Header bytes become valid UTF-8 here, at the boundary: everything downstream (JSON, logs,
  // alerts, the status page) may then treat them as text.
  if (colon != std::string_view::npos) {
    auto& headers = check->observation_.headers;
    if (headers.empty()) headers.reserve(8);
    headers.emplace_back(makeValidUtf8(trim(line.substr(0, colon))),
                         makeValidUtf8(trim(line.substr(colon + 1))));
  }
  return bytes;
}

Observation HttpCheck::finish(CURLcode result) {
  Observation obs = std::move(observation_);
  obs.transportError = transportErrorFor(result, bodyTooLarge_);
  if (obs.transportError == TransportError::BodyTooLarge) {
    obs.transportDetail = "body exceeds the limit of " + std::to_string(bodyLimit_) + " bytes";
  } else if (result == CURLE_OUT_OF_MEMORY && obs.body.empty()) {
    // curl 7.88 says only "Out of memory" when one header line exceeds its 100 KiB limit.
    obs.transportDetail = "response header line too long (over curl's 100 KiB limit)";
  } else if (headersTooLarge_) {
    obs.transportError = TransportError::Other;
    obs.transportDetail =
        "response headers exceed " + std::to_string(kMaxHeaderBytes / 1024) + " KiB";
  }
  // For a CA file that cannot be loaded curl says only "error signaled by ssl ctx callback".
  else if (result != CURLE_OK && !caError_.empty())
    obs.transportDetail = makeValidUtf8(caError_);
  else if (result != CURLE_OK)
    obs.transportDetail = makeValidUtf8(errorBuffer_[0] ? errorBuffer_ : curl_easy_strerror(result));
  long code = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
  obs.statusCode = static_cast<int>(code);
  long version = 0;
  curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
  obs.httpVersion = version == CURL_HTTP_VERSION_1_0   ? 1.0
                    : version == CURL_HTTP_VERSION_1_1 ? 1.1
                    : version == CURL_HTTP_VERSION_2_0 ? 2.0
                    : version == CURL_HTTP_VERSION_3   ? 3.0
                                                       : 0.0;
  curl_off_t length = -1;
  curl_easy_getinfo(easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  obs.contentLength = length >= 0 ? length : static_cast<std::int64_t>(obs.body.size());
  obs.uncompressedBodyLength = static_cast<std::int64_t>(obs.body.size());
  char* location = nullptr;
  if (obs.statusCode >= 300 && obs.statusCode < 400 &&
      curl_easy_getinfo(easy_, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
    obs.redirectUrl = location;
  char* scheme = nullptr;
  curl_easy_getinfo(easy_, CURLINFO_SCHEME, &scheme);
  obs.ssl = scheme && (std::strcmp(scheme, "https") == 0 || std::strcmp(scheme, "HTTPS") == 0);
  long verify = 1;
  curl_easy_getinfo(easy_, CURLINFO_SSL_VERIFYRESULT, &verify);
  obs.cert = cert_;
  obs.cert.verified = cert_.present && verify == 0 && result == CURLE_OK;

  curl_off_t lookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0,
             total = 0;
  curl_easy_getinfo(easy_, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
  curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(easy_, CURLINFO_APPCONNECT_TIME_T, &appconnect);
  curl_easy_getinfo(easy_, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  curl_easy_getinfo(easy_, CURLINFO_STARTTRANSFER_TIME_T, &starttransfer);
  curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME_T, &total);
  auto secs = [](curl_off_t us) { return static_cast<double>(std::max<curl_off_t>(us, 0)) / 1e6; };
  const curl_off_t connected = std::max(connect, lookup);
  const curl_off_t secured = appconnect > 0 ? appconnect : connected;
  obs.phases.connect = secs(connected - lookup);
  obs.phases.tls = secs(appconnect > 0 ? appconnect - connected : 0);
  obs.phases.processing = secs(starttransfer > 0 ? starttransfer - std::max(secured, pretransfer) : 0);
  obs.phases.transfer = secs(starttransfer > 0 ? total - starttransfer : 0);
  obs.durationSeconds = secs(total);
  for (const auto& [name, value] : obs.headers) {
    if (name.size() == 6 && strncasecmp(name.c_str(), "server", 6) == 0) obs.serverHeader = value;
  }
  return obs;
}

}  // namespace envprobe
