#include "probe/web/tls_connection.hpp"

#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace envprobe {

namespace {

// A BIO on a socket that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), which
// raises SIGPIPE when the client has gone away.
int fdOf(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

bool wouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int bioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(fdOf(bio), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (wouldBlock(errno)) BIO_set_retry_write(bio);
  return -1;
}

int bioRead(BIO* bio, char* data, int len) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = ::recv(fdOf(bio), data, static_cast<std::size_t>(len), 0);
  if (n >= 0) return static_cast<int>(n);  // 0: the client closed its side
  if (wouldBlock(errno)) BIO_set_retry_read(bio);
  return -1;
}

long bioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* socketMethod() {
  // Made once and kept for the life of the process.
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "envprobe socket");
    if (!m) return m;
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    BIO_meth_set_create(m, bioCreate);
    return m;
  }();
  return method;
}

}  // namespace

std::size_t requestHeadEnd(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    if (i + 1 < bytes.size() && bytes[i + 1] == '\n') return i + 2;
    if (i + 2 < bytes.size() && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
  }
  return 0;
}

char* ByteQueue::back() {
  if (begin_ > 0) {  // so that all of room() lies at the back
    std::memmove(data_.data(), data_.data() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  return data_.data() + end_;
}

void ByteQueue::consume(std::size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

TlsConnection::OwnedFd::~OwnedFd() { reset(-1); }

void TlsConnection::OwnedFd::reset(int newFd) {
  if (fd >= 0) ::close(fd);
  fd = newFd;
}

void TlsConnection::SslFree::operator()(SSL* ssl) const { SSL_free(ssl); }

TlsConnection::TlsConnection(int clientFd, SSL_CTX* ctx, const sockaddr_in& backend,
                             const TlsLimits& limits, Clock::time_point now)
    : clientFd_{clientFd},
      backend_(backend),
      limits_(limits),
      toBackend_(limits.bufferBytes),
      toClient_(limits.bufferBytes),
      accepted_(now),
      lastActivity_(now) {
  const int one = 1;
  ::setsockopt(clientFd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ssl_.reset(SSL_new(ctx));
  const BIO_METHOD* method = socketMethod();
  BIO* bio = ssl_ && method ? BIO_new(method) : nullptr;
  if (!bio) {
    ERR_clear_error();
    throw std::runtime_error("OpenSSL cannot make a TLS session (out of memory?)");
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(clientFd)));
  SSL_set_bio(ssl_.get(), bio, bio);  // the session owns the BIO now
  SSL_set_accept_state(ssl_.get());
}

TlsConnection::~TlsConnection() = default;

TlsConnection::Clock::time_point TlsConnection::deadline() const {
  if (closeNotifySent_) return lingerUntil_ == Clock::time_point{} ? lastActivity_ : lingerUntil_;
  if (!handshakeDone_) return accepted_ + limits_.handshakeTimeout;
  if (!connecting_ && !connected_) return handshook_ + limits_.requestHeadTimeout;
  return lastActivity_ + limits_.idleTimeout;
}

pollfd TlsConnection::clientPoll() const {
  const short events = static_cast<short>(readWant_ | writeWant_);
  return {done_ || events == 0 ? -1 : clientFd_.fd, events, 0};
}

pollfd TlsConnection::backendPoll() const {
  return {done_ || backendWant_ == 0 ? -1 : backendFd_.fd, backendWant_, 0};
}

void TlsConnection::advance(Clock::time_point now, short backendRevents) {
  busy_ = false;
  if (done_) return;
  if (connecting_) finishConnect(backendRevents);
  // A bounded number of passes, so one fast peer cannot keep the loop from the others.
  int passes = 0;
  while (!done_ && step(now)) {
    lastActivity_ = now;
    if (++passes == 16) {
      busy_ = true;
      break;
    }
  }
  if (!done_ && !busy_ && now >= deadline()) done_ = true;
  ERR_clear_error();
}

bool TlsConnection::step(Clock::time_point now) {
  backendWant_ = 0;
  if (closeNotifySent_) return linger(now);
  if (!handshakeDone_) {
    const bool moved = handshake(now);
    if (!handshakeDone_ || done_) return moved;
  }
  bool moved = readClient();
  if (done_) return moved;
  if (!connecting_ && !connected_) {
    if (requestHeadEnd(toBackend_.view()) > 0 || toBackend_.full() ||
        (clientEof_ && !toBackend_.empty())) {
      startConnect();
      moved = true;
    } else {
      if (clientEof_) done_ = true;  // closed before sending a request
      return moved;                  // still reading the request head
    }
  }
  if (done_) return moved;
  if (connecting_) {
    backendWant_ = POLLOUT;
    return moved;
  }
  moved = writeBackend() || moved;
  if (done_) return moved;
  moved = readBackend() || moved;
  if (done_) return moved;
  return writeClient() || moved;
}

bool TlsConnection::linger(Clock::time_point now) {
  if (lingerUntil_ == Clock::time_point{}) lingerUntil_ = now + kLinger;
  readWant_ = POLLIN;
  writeWant_ = 0;
  char scratch[4096];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = ::recv(clientFd_.fd, scratch, sizeof scratch, 0);
    if (n > 0) continue;
    if (n < 0 && wouldBlock(errno)) return false;
    done_ = true;  // the client closed too (or reset)
    return false;
  }
  return false;
}

bool TlsConnection::handshake(Clock::time_point now) {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  writeWant_ = 0;
  if (result == 1) {
    handshakeDone_ = true;
    handshook_ = now;
    readWant_ = 0;
    return true;
  }
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      readWant_ = POLLIN;
      break;
    case SSL_ERROR_WANT_WRITE:
      readWant_ = POLLOUT;
      break;
    default:
      fail();  // garbage, plain HTTP, an alert, a reset, an EOF, a bad client certificate
  }
  return false;
}

bool TlsConnection::readClient() {
  bool moved = false;
  readWant_ = 0;
  while (!clientEof_ && !toBackend_.full()) {
    ERR_clear_error();
    std::size_t n = 0;
    char* at = toBackend_.back();
    if (SSL_read_ex(ssl_.get(), at, toBackend_.room(), &n) == 1) {
      toBackend_.commit(n);
      moved = true;
      continue;
    }
    switch (SSL_get_error(ssl_.get(), 0)) {
      case SSL_ERROR_WANT_READ:
        readWant_ = POLLIN;
        return moved;
      case SSL_ERROR_WANT_WRITE:
        readWant_ = POLLOUT;
        return moved;
      case SSL_ERROR_ZERO_RETURN:
        clientEof_ = true;
        return true;
      default:
        fail();
        return moved;
    }
  }
  return moved;
}

void TlsConnection::startConnect() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail();
  backendFd_.reset(fd);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&backend_), sizeof backend_) == 0)
    connected_ = true;
  else if (errno == EINPROGRESS || errno == EINTR)
    connecting_ = true;
  else
    fail();
}

void TlsConnection::finishConnect(short backendRevents) {
  if (!(backendRevents & (POLLOUT | POLLERR | POLLHUP))) return;
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(backendFd_.fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0)
    return fail();
  connecting_ = false;
  connected_ = true;
}

bool TlsConnection::writeBackend() {
  bool moved = false;
  while (!toBackend_.empty()) {
    const ssize_t n = ::send(backendFd_.fd, toBackend_.front(), toBackend_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      toBackend_.consume(static_cast<std::size_t>(n));
      moved = true;
    } else if (n < 0 && wouldBlock(errno)) {
      backendWant_ |= POLLOUT;
      return moved;
    } else {
      fail();
      return moved;
    }
  }
  if (clientEof_ && !backendShut_) {  // pass the client's end of the request on
    ::shutdown(backendFd_.fd, SHUT_WR);
    backendShut_ = true;
    moved = true;
  }
  return moved;
}

bool TlsConnection::readBackend() {
  bool moved = false;
  while (!backendEof_ && !toClient_.full()) {
    const ssize_t n = ::recv(backendFd_.fd, toClient_.back(), toClient_.room(), 0);
    if (n > 0) {
      toClient_.commit(static_cast<std::size_t>(n));
      moved = true;
    } else if (n < 0 && wouldBlock(errno)) {
      backendWant_ |= POLLIN;
      return moved;
    } else {
      backendEof_ = true;  // answered and closed (or reset): send what came, then close
      return true;
    }
  }
  return moved;
}

bool TlsConnection::writeClient() {
  bool moved = false;
  writeWant_ = 0;
  while (!toClient_.empty()) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_write_ex(ssl_.get(), toClient_.front(), toClient_.size(), &n) == 1) {
      toClient_.consume(n);
      moved = true;
      continue;
    }
    switch (SSL_get_error(ssl_.get(), 0)) {
      case SSL_ERROR_WANT_WRITE:
        writeWant_ = POLLOUT;
        return moved;
      case SSL_ERROR_WANT_READ:
        writeWant_ = POLLIN;
        return moved;
      default:
        fail();
        return moved;
    }
  }
  if (backendEof_ && !closeNotifySent_) {
    ERR_clear_error();
    const int result = SSL_shutdown(ssl_.get());
    if (result >= 0) {
      // The answer is out. Closing now could reset the connection under the client's unread
      // answer if it sent more, so end our side and drain briefly (see linger()).
      closeNotifySent_ = true;
      ::shutdown(clientFd_.fd, SHUT_WR);
      return true;
    }
    switch (SSL_get_error(ssl_.get(), result)) {
      case SSL_ERROR_WANT_WRITE:
        writeWant_ = POLLOUT;
        break;
      case SSL_ERROR_WANT_READ:
        writeWant_ = POLLIN;
        break;
      default:
        fail();
    }
  }
  return moved;
}

}  // namespace envprobe
