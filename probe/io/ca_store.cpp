#include "probe/io/ca_store.hpp"

#include <curl/curl.h>
#include <openssl/err.h>
#include <sys/stat.h>

namespace envprobe {

const CaStores::Defaults& CaStores::curlDefaults() {
  static const Defaults defaults = [] {
    Defaults out;
    if (CURL* easy = curl_easy_init()) {
      char* value = nullptr;
      if (curl_easy_getinfo(easy, CURLINFO_CAINFO, &value) == CURLE_OK && value) out.file = value;
      value = nullptr;
      if (curl_easy_getinfo(easy, CURLINFO_CAPATH, &value) == CURLE_OK && value) out.dir = value;
      curl_easy_cleanup(easy);
    }
    return out;
  }();
  return defaults;
}

CaStores::CaStores(Defaults defaults, std::chrono::seconds recheck,
                   std::function<Clock::time_point()> now)
    : defaults_(std::move(defaults)), recheck_(recheck), now_(std::move(now)) {}

CaStores::~CaStores() {
  for (auto& [path, entry] : entries_) X509_STORE_free(entry.store);
}

CaStores::FileId CaStores::identify(const std::string& path) {
  struct stat st {};
  FileId id;
  if (::stat(path.c_str(), &st) != 0) return id;
  id.exists = true;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  id.mtimeNs = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
  id.ctimeNs = static_cast<long long>(st.st_ctim.tv_sec) * 1'000'000'000LL + st.st_ctim.tv_nsec;
  return id;
}

void CaStores::load(const std::string& path, Entry& entry, const FileId& id) {
  ++loads_;
  X509_STORE_free(entry.store);
  entry.store = nullptr;
  entry.error.clear();
  entry.loaded = true;
  entry.id = id;
  X509_STORE* store = X509_STORE_new();
  // The same calls, messages and flags as libcurl 7.88's OpenSSL backend (populate_x509_store).
  if (!store) {
    entry.error = "out of memory loading the CA file " + path;
  } else if (X509_STORE_load_file(store, path.c_str()) != 1) {
    entry.error = "error setting certificate file: " + path;
  } else if (!defaults_.dir.empty() && X509_STORE_load_path(store, defaults_.dir.c_str()) != 1) {
    entry.error = "error setting certificate path: " + defaults_.dir;
  } else {
    X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    entry.store = store;
    store = nullptr;
  }
  X509_STORE_free(store);
  ERR_clear_error();  // a failed load leaves its reasons queued on this thread
}

X509_STORE* CaStores::acquire(const std::string& caFile, std::string& error) {
  const std::string& path = caFile.empty() ? defaults_.file : caFile;
  if (path.empty()) {
    error = "no CA file: libcurl has no default CA bundle and the check names none";
    return nullptr;
  }
  const Clock::time_point now = now_();
  dropIdle(now);
  Entry& entry = entries_[path];
  entry.used = now;
  // A file that failed is looked at on every use, so a bundle caught half-written is retried
  // as soon as it changes again.
  if (!entry.loaded || !entry.store || now - entry.checked >= recheck_) {
    const FileId id = identify(path);
    if (!entry.loaded || id != entry.id) load(path, entry, id);
    entry.checked = now;
  }
  if (!entry.store) {
    error = entry.error;
    return nullptr;
  }
  X509_STORE_up_ref(entry.store);
  return entry.store;
}

void CaStores::dropIdle(Clock::time_point now) {
  if (now - swept_ < recheck_) return;
  swept_ = now;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.used >= kIdle) {
      X509_STORE_free(it->second.store);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace envprobe
