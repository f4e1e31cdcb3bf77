#pragma once
// The probe series' families: names and help texts in one place, in exposition order, shared by
// the text writer and Collect(). Dashboards, rules and tests depend on these exact strings.
namespace envprobe::probe_family {

struct Info {
  const char* name;
  const char* help;
  bool counter = false;
  const char* type() const { return counter ? "counter" : "gauge"; }
};

inline constexpr Info kSuccess{"probe_success", "Whether the probe succeeded"};
inline constexpr Info kDuration{"probe_duration_seconds", "How long the probe took, DNS included"};
inline constexpr Info kStatus{"probe_http_status_code", "HTTP status code of the last response"};
inline constexpr Info kPhases{"probe_http_duration_seconds",
                              "Duration of the HTTP request by phase"};
inline constexpr Info kDns{"probe_dns_lookup_time_seconds", "How long the DNS lookup took"};
inline constexpr Info kLength{"probe_http_content_length", "Length of the HTTP content response"};
inline constexpr Info kVersion{"probe_http_version", "HTTP version of the response"};
inline constexpr Info kSsl{"probe_http_ssl", "Whether TLS was used for the final request"};
inline constexpr Info kRedirects{"probe_http_redirects", "Number of redirects followed"};
inline constexpr Info kExpiry{"probe_ssl_earliest_cert_expiry",
                              "Earliest notAfter in the peer's chain, unix seconds (also when the "
                              "certificate did not verify)"};
inline constexpr Info kBodyLength{"probe_http_uncompressed_body_length",
                                  "Length of the response body after content decoding"};
inline constexpr Info kIpProtocol{"probe_ip_protocol",
                                  "IP protocol of the address probed (4 or 6)"};
inline constexpr Info kIpHash{"probe_ip_addr_hash",
                              "FNV-1a hash of the address probed, to see when it changes"};
inline constexpr Info kTlsVersion{"probe_tls_version_info", "TLS version of the final response"};
inline constexpr Info kChainExpiry{"probe_ssl_last_chain_expiry_timestamp_seconds",
                                   "Earliest notAfter in the verified chain, unix seconds (absent "
                                   "when the chain was not verified)"};
inline constexpr Info kChainInfo{"probe_ssl_last_chain_info",
                                 "The leaf certificate of the final response"};
inline constexpr Info kRegex{"probe_failed_due_to_regex", "Whether the probe failed on a regex"};
inline constexpr Info kFailures{"probe_failures_total", "Failed probes by reason", true};
inline constexpr Info kFailing{"envprobe_probe_failure_reason",
                               "1 for the reason the target is failing now; absent while it "
                               "passes"};
inline constexpr Info kLastRun{"envprobe_probe_last_run_timestamp_seconds",
                               "When the last probe finished"};
inline constexpr Info kDeployed{"envprobe_target_version_info",
                                "1 with the version the last response named (checks with "
                                "version:)"};
inline constexpr Info kChanged{"envprobe_target_last_change_timestamp_seconds",
                               "When a tracked fact (what) of the target last changed, unix "
                               "seconds"};

// The phases of probe_http_duration_seconds, in exposition order.
inline constexpr const char* kPhaseNames[] = {"resolve", "connect", "tls", "processing",
                                              "transfer"};

}  // namespace envprobe::probe_family
