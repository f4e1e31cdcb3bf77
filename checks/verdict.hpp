#pragma once
// The judgement of one probe: ok, or one reason from a fixed set plus a human detail.
#include <string>

namespace envprobe {

// The documented, fixed set of failure reasons (label values of probe_failures_total{reason}).
enum class Reason {
  None,
  DnsNxdomain,   // dns_nxdomain
  DnsServfail,   // dns_servfail
  DnsRefused,    // dns_refused
  DnsTimeout,    // dns_timeout
  Dns,           // dns (other resolver failure, e.g. no addresses)
  Connect,       // connect
  Tls,           // tls
  Timeout,       // timeout
  HttpStatus,    // http_status
  Body,          // body
  Header,        // header
  Json,          // json
  TooSlow,       // too_slow
  BodyTooLarge,  // body_too_large
  Redirects,     // redirects
  Error,         // error (anything else)
};

const char* toString(Reason reason);  // the label value, e.g. "http_status"

struct Verdict {
  bool ok = false;
  Reason reason = Reason::None;
  std::string detail;          // e.g. "status 400 not in [200-299]"
  bool failedDueToRegex = false;  // probe_failed_due_to_regex
};

}  // namespace envprobe
