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
  VersionMismatch,   // version_mismatch: serves another version than the one announced
  WrongEnvironment,  // wrong_environment: expect.identity does not name this environment
};

const char* toString(Reason reason);  // the label value, e.g. "http_status"

struct Verdict {
  bool ok = false;
  Reason reason = Reason::None;
  std::string detail;          // e.g. "status 400 not in [200-299]"
  bool failedDueToRegex = false;  // probe_failed_due_to_regex
  // Facts read from the response while judging (off the loop), for change tracking and
  // expected versions; empty when the check does not ask for them or the response lacks them.
  std::string version;     // where the check's `version:` points; valid UTF-8, bounded
  std::string bodySha256;  // lowercase hex, only when the check tracks `body`
};

}  // namespace envprobe
