#pragma once
// One client connection of the TLS front end (tls_front.hpp), a non-blocking state machine run by
// the front end's poll loop: the TLS handshake, then the request head (read in full before the
// backend is dialled, so a slow or silent client never holds one of civetweb's threads), then
// bytes both ways between the client (TLS) and the backend (plain HTTP on loopback) until the
// backend has answered and closed; then close_notify, and a short drain of what the client still
// sends (closing a socket with unread input resets it, which can cost the client the answer).
//
// Every client byte is hostile: each phase has a deadline, both directions have fixed-size
// buffers (a side that does not read stops the other side from being read), and any protocol or
// socket error just ends this connection.
#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace envprobe {

struct TlsLimits {
  std::chrono::milliseconds handshakeTimeout{10000};    // accept -> handshake done
  std::chrono::milliseconds requestHeadTimeout{10000};  // handshake done -> request head read
  std::chrono::milliseconds idleTimeout{60000};  // then: no byte moved either way for this long
  std::size_t bufferBytes = 16384;  // each direction; also the most of a request head we wait for
};

// Where the request head ends in `bytes`: the offset just past the first "\r\n\r\n" (or "\n\n",
// which HTTP servers accept too), or 0 when it has not ended yet.
std::size_t requestHeadEnd(std::string_view bytes);

// A fixed-capacity byte queue: appended at the back, consumed from the front; back() moves what
// is left to the front first, so all of room() is there.
class ByteQueue {
 public:
  explicit ByteQueue(std::size_t capacity) : data_(capacity) {}
  std::size_t size() const { return end_ - begin_; }
  std::size_t room() const { return data_.size() - size(); }
  bool empty() const { return size() == 0; }
  bool full() const { return room() == 0; }
  const char* front() const { return data_.data() + begin_; }
  std::string_view view() const { return {front(), size()}; }
  // Where to write up to room() bytes; then commit() what was written.
  char* back();
  void commit(std::size_t n) { end_ += n; }
  void consume(std::size_t n);

 private:
  std::vector<char> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class TlsConnection {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes ownership of `clientFd` (non-blocking, accepted). Throws std::bad_alloc or
  // std::runtime_error when OpenSSL cannot make a session (the fd is closed then too).
  TlsConnection(int clientFd, SSL_CTX* ctx, const sockaddr_in& backend, const TlsLimits& limits,
                Clock::time_point now);
  ~TlsConnection();  // closes both sockets
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Every step that can be made without waiting (each socket is simply tried); `backendRevents`
  // is what poll reported for the backend socket, to learn that a connect finished. Past the
  // deadline, the connection is done.
  void advance(Clock::time_point now, short backendRevents);
  bool done() const { return done_; }
  // Work was left for the next round (a fast peer): advance again without waiting.
  bool busy() const { return busy_; }

  // What to poll for: fd -1 when nothing is awaited on that socket.
  pollfd clientPoll() const;
  pollfd backendPoll() const;
  Clock::time_point deadline() const;

 private:
  bool step(Clock::time_point now);  // one pass; true when something moved
  bool handshake(Clock::time_point now);
  bool linger(Clock::time_point now);
  bool readClient();
  bool writeBackend();
  bool readBackend();
  bool writeClient();
  void finishConnect(short backendRevents);
  void startConnect();
  void fail() { done_ = true; }

  struct OwnedFd {
    int fd = -1;
    ~OwnedFd();
    void reset(int newFd);
  };
  struct SslFree {
    void operator()(SSL* ssl) const;
  };

  // Declared first, destroyed last: the session goes before the sockets it was using.
  OwnedFd clientFd_;
  OwnedFd backendFd_;
  std::unique_ptr<SSL, SslFree> ssl_;
  sockaddr_in backend_;
  TlsLimits limits_;
  ByteQueue toBackend_;
  ByteQueue toClient_;
  Clock::time_point accepted_;
  Clock::time_point handshook_{};
  Clock::time_point lastActivity_;
  bool handshakeDone_ = false;
  bool connecting_ = false;
  bool connected_ = false;
  bool clientEof_ = false;        // the client sent close_notify or closed its side
  bool backendEof_ = false;       // the backend answered and closed its side
  bool backendShut_ = false;      // we passed the client's end on (shutdown SHUT_WR)
  bool closeNotifySent_ = false;  // then: drain what the client still sends, up to kLinger
  Clock::time_point lingerUntil_{};
  static constexpr std::chrono::seconds kLinger{2};
  bool done_ = false;
  bool busy_ = false;
  short readWant_ = 0;   // what the client socket must do for SSL_read / the handshake
  short writeWant_ = 0;  // ... for SSL_write / SSL_shutdown
  short backendWant_ = 0;
};

}  // namespace envprobe
