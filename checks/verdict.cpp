#include "checks/verdict.hpp"

namespace envprobe {

const char* toString(Reason reason) {
  switch (reason) {
    case Reason::None:
      return "none";
    case Reason::DnsNxdomain:
      return "dns_nxdomain";
    case Reason::DnsServfail:
      return "dns_servfail";
    case Reason::DnsRefused:
      return "dns_refused";
    case Reason::DnsTimeout:
      return "dns_timeout";
    case Reason::Dns:
      return "dns";
    case Reason::Connect:
      return "connect";
    case Reason::Tls:
      return "tls";
    case Reason::Timeout:
      return "timeout";
    case Reason::HttpStatus:
      return "http_status";
    case Reason::Body:
      return "body";
    case Reason::Header:
      return "header";
    case Reason::Json:
      return "json";
    case Reason::TooSlow:
      return "too_slow";
    case Reason::BodyTooLarge:
      return "body_too_large";
    case Reason::Redirects:
      return "redirects";
    case Reason::Error:
      return "error";
    case Reason::VersionMismatch:
      return "version_mismatch";
    case Reason::WrongEnvironment:
      return "wrong_environment";
  }
  return "error";  // out-of-range values still yield a valid label
}

}  // namespace envprobe
