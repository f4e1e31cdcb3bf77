#include "probe/web/response_stream.hpp"

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace envprobe {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The q of one coding's parameters ("q=0.5"); 1 when absent or unreadable.
double qualityOf(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      const std::string value(trim(param.substr(2)));
      char* end = nullptr;
      const double q = std::strtod(value.c_str(), &end);
      return end == value.c_str() ? 1 : q;
    }
  }
  return 1;
}

}  // namespace

bool acceptsGzip(const char* acceptEncoding) {
  if (!acceptEncoding) return false;
  std::string_view rest(acceptEncoding);
  int gzip = -1, star = -1;  // -1 not named, 0 refused, 1 accepted
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1 : qualityOf(item.substr(semi + 1));
    if (equalsNoCase(coding, "gzip") || equalsNoCase(coding, "x-gzip")) gzip = q > 0 ? 1 : 0;
    else if (coding == "*") star = q > 0 ? 1 : 0;
  }
  return gzip == 1 || (gzip == -1 && star == 1);
}

ResponseStream::ResponseStream(RawSink sink, bool chunked, bool gzip)
    : sink_(std::move(sink)), chunked_(chunked), gzip_(gzip) {
  if (!gzip_) return;
  // windowBits 15 + 16: the gzip wrapper; memLevel 8: zlib's default (~256 KiB of state).
  if (deflateInit2(&zs_, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: cannot start a gzip stream");
  out_.resize(kBufferSize);
}

ResponseStream::~ResponseStream() {
  if (gzip_) deflateEnd(&zs_);
}

bool ResponseStream::sendChunk(std::string_view bytes) {
  if (failed_) return false;
  if (bytes.empty()) return true;  // an empty chunk would end the body
  sent_ += bytes.size();
  if (chunked_) {
    char head[24];
    const int n = std::snprintf(head, sizeof head, "%zx\r\n", bytes.size());
    if (!sink_({head, static_cast<std::size_t>(n)}) || !sink_(bytes) || !sink_("\r\n"))
      failed_ = true;
  } else if (!sink_(bytes)) {
    failed_ = true;
  }
  return !failed_;
}

// Runs deflate over what is pending, sending each full output buffer.
bool ResponseStream::deflateSome(int flush) {
  for (;;) {
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    const int rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) {
      failed_ = true;
      return false;
    }
    const std::size_t produced = out_.size() - zs_.avail_out;
    if (!sendChunk({out_.data(), produced})) return false;
    if (flush == Z_FINISH ? rc == Z_STREAM_END : zs_.avail_out != 0) return true;
  }
}

bool ResponseStream::write(std::string_view bytes) {
  if (failed_ || finished_) return false;
  in_ += bytes.size();
  if (!gzip_) return sendChunk(bytes);
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs_.avail_in = static_cast<uInt>(bytes.size());
  return deflateSome(Z_NO_FLUSH);
}

bool ResponseStream::finish() {
  if (failed_ || finished_) return !failed_;
  finished_ = true;
  if (gzip_) {
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    if (!deflateSome(Z_FINISH)) return false;
  }
  if (chunked_ && !sink_("0\r\n\r\n")) failed_ = true;
  return !failed_;
}

}  // namespace envprobe
