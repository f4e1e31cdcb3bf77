#pragma once
// A response body sent in pieces as it is produced, so a large body (/metrics of a big fleet)
// is never held whole: HTTP/1.1 chunked transfer encoding (plain bytes until the connection
// closes for an HTTP/1.0 client), gzip-compressed (zlib, gzip wrapper) when the client accepts
// it. Writes go to a raw byte sink (the connection), a chunk per full buffer.
#include <zlib.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace envprobe {

// Whether an Accept-Encoding header value accepts gzip (a "gzip" or "x-gzip" coding whose q is
// not 0; "*" counts when gzip is not named). Null: no header, no.
bool acceptsGzip(const char* acceptEncoding);

class ResponseStream {
 public:
  // Sends raw bytes to the client; false when it is gone.
  using RawSink = std::function<bool(std::string_view bytes)>;
  static constexpr std::size_t kBufferSize = 64 * 1024;
  static constexpr int kGzipLevel = 1;  // fastest: text compresses well even so

  ResponseStream(RawSink sink, bool chunked, bool gzip);
  ~ResponseStream();
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // One piece of the body (compressed first when gzip); false once the client is gone.
  bool write(std::string_view bytes);
  // Ends the body: the gzip trailer and the last chunk. False when the client is gone.
  bool finish();

  bool failed() const { return failed_; }
  std::size_t bodyBytesIn() const { return in_; }    // before compression
  std::size_t bytesSent() const { return sent_; }    // after compression, without framing

 private:
  bool sendChunk(std::string_view bytes);
  bool deflateSome(int flush);

  RawSink sink_;
  bool chunked_;
  bool gzip_;
  bool failed_ = false;
  bool finished_ = false;
  z_stream zs_{};
  std::string out_;  // compressed bytes, sent when full
  std::size_t in_ = 0;
  std::size_t sent_ = 0;
};

}  // namespace envprobe
