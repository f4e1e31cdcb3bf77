#pragma once
// The trusted CA certificates of HTTPS probes, parsed once and shared by every probe.
//
// libcurl makes a new OpenSSL context for every connection and fills its certificate store from
// the CA file each time; its own CA cache is off while a CA directory is set (Debian's libcurl
// sets /etc/ssl/certs by default) and holds one file only. Parsing Debian's bundle (~145
// certificates) costs 20-30 ms of CPU, so a fresh HTTPS probe cost 60 times an HTTP one.
//
// Here each distinct CA file gets one X509_STORE, loaded on first use and handed by reference
// count to each probe's SSL context from curl's SSL context callback (HttpCheck). The trust is
// what curl itself would load: the check's tls.ca_file (or libcurl's default bundle), plus
// libcurl's default CA directory (hashed names, looked up lazily), with the verify flags curl
// sets. Verification itself stays OpenSSL's and curl's (chain, name, dates), on every handshake.
//
// A file is looked at again (stat) at most every `recheck` and reloaded when it changed (inode,
// size, mtime or ctime), so an updated bundle is picked up without a restart; a file that could
// not be loaded is looked at on every use. Probes in flight keep the store they started with.
// Used on the event-loop thread only.
#include <openssl/x509_vfy.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

namespace envprobe {

class CaStores {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kRecheck{5};
  // A store not used for this long is dropped (a CA file no check names any more).
  static constexpr std::chrono::minutes kIdle{10};

  struct Defaults {
    std::string file;  // the CA bundle used when a check names none ("": none)
    std::string dir;   // a hashed CA directory added to every store ("": none)
  };
  // libcurl's built-in CA bundle and directory (CURLINFO_CAINFO, CURLINFO_CAPATH).
  static const Defaults& curlDefaults();

  explicit CaStores(Defaults defaults = curlDefaults(), std::chrono::seconds recheck = kRecheck,
                    std::function<Clock::time_point()> now = &Clock::now);
  ~CaStores();
  CaStores(const CaStores&) = delete;
  CaStores& operator=(const CaStores&) = delete;

  // Whether a store can be made for `caFile` ("" = the default bundle, which may be unknown).
  bool covers(const std::string& caFile) const {
    return !caFile.empty() || !defaults_.file.empty();
  }

  // A new reference to the store for `caFile` ("" = the default bundle), for
  // SSL_CTX_set_cert_store, which takes it over. nullptr when the file cannot be loaded, with
  // `error` set to what curl says for the same file ("error setting certificate file: PATH").
  X509_STORE* acquire(const std::string& caFile, std::string& error);

  std::size_t loads() const { return loads_; }  // files parsed so far (for tests)
  std::size_t size() const { return entries_.size(); }

 private:
  struct FileId {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    long long mtimeNs = 0;
    long long ctimeNs = 0;
    bool operator==(const FileId&) const = default;
  };
  struct Entry {
    X509_STORE* store = nullptr;  // nullptr: the last load failed (see error)
    std::string error;
    bool loaded = false;
    FileId id;
    Clock::time_point checked{};
    Clock::time_point used{};
  };

  static FileId identify(const std::string& path);
  void load(const std::string& path, Entry& entry, const FileId& id);
  void dropIdle(Clock::time_point now);

  Defaults defaults_;
  std::chrono::seconds recheck_;
  std::function<Clock::time_point()> now_;
  std::map<std::string, Entry> entries_;
  Clock::time_point swept_{};
  std::size_t loads_ = 0;
};

}  // namespace envprobe
