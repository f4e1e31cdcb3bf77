#pragma once
// The config model: plain values produced by the loader, consumed by expansion, audit and engine.
// Pure data; no I/O. Every element keeps its SourceLocation so later passes can point at it.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probe/base/core_types.hpp"
#include "probe/base/diagnostics.hpp"
#include "probe/alerting/maintenance.hpp"

namespace envprobe {

struct EnvironmentDef {
  std::string name;
  Tier tier = Tier::NonProd;
  SourceLocation where;
};

// Hostnames of one visibility. Either one list for every environment ({env} expanded), or a map
// environment -> list. `declared` is false when the key is absent altogether.
struct HostnameSpec {
  bool declared = false;
  bool perEnvironment = false;
  std::vector<std::string> all;                              // list form
  std::map<std::string, std::vector<std::string>> byEnv;     // map form
  std::map<std::string, SourceLocation> envWhere;            // map form: where each env key is
  SourceLocation where;
};

// An inclusive range of HTTP status codes; a single code has lo == hi.
struct StatusRange {
  int lo = 200;
  int hi = 299;
  bool contains(int code) const { return code >= lo && code <= hi; }
  bool operator==(const StatusRange&) const = default;
};

struct HeaderExpectation {
  std::string name;   // matched case-insensitively
  std::string regex;  // full match against the header value
  bool operator==(const HeaderExpectation&) const = default;
};

struct JsonExpectation {
  std::string path;      // dotted path, e.g. "build.version" or "items.0.id"
  std::string expected;  // compared with the JSON value's text ({env} expanded)
  bool operator==(const JsonExpectation&) const = default;
};

// Where a response carries a value (a deployed version, an environment's name): a JSON body's
// field, a response header or an RE2 pattern on the body.
struct ValueSource {
  enum class Kind { None, Json, Header, Regex };
  Kind kind = Kind::None;
  // json: a dotted path like JsonExpectation's ("build.version"); header: the header's name
  // (matched case-insensitively); regex: an RE2 pattern on the body, the value is its capture
  // group 1 when it has one, else the whole match (the loader allows at most one group).
  std::string key;
  bool set() const { return kind != Kind::None; }
  bool operator==(const ValueSource&) const = default;
};

const char* toString(ValueSource::Kind kind);  // "none", "json", "header", "regex"

// expect.identity: the response names the environment it belongs to, which must be `equals`
// ({env} expanded with the agent's environment): guards against a prod hostname serving staging.
struct IdentityExpect {
  ValueSource source;
  std::string equals = "{env}";
  bool operator==(const IdentityExpect&) const = default;
};

struct HttpExpect {
  std::vector<StatusRange> status;  // empty = 200-299
  std::vector<std::string> bodyContains;
  std::vector<std::string> bodyNotContains;
  std::vector<std::string> bodyRegex;
  std::vector<HeaderExpectation> headers;
  std::vector<JsonExpectation> json;
  std::optional<Duration> maxDuration;
  std::optional<IdentityExpect> identity;
  bool operator==(const HttpExpect&) const = default;
};

struct TlsOptions {
  bool insecureSkipVerify = false;
  std::string caFile;
  bool operator==(const TlsOptions&) const = default;
};

// Secrets of a check, read at load time from files or the environment, never from the config
// text itself, and never shown: not in targets' URLs, the API, the status page or logs. Sent
// only to the target's own origin (not after a redirect to another one).
struct CheckSecrets {
  std::vector<std::pair<std::string, std::string>> headers;  // incl. Authorization: Bearer ...
  std::string query;  // "name=value&..." percent-encoded, appended to the request URL
  std::vector<std::string> files;  // the files the values were read from (watched for changes)
  bool empty() const { return headers.empty() && query.empty(); }
  bool operator==(const CheckSecrets&) const = default;
};

// The facts of a target whose changes are tracked (YAML `track:`). The names (toString) are the
// values of the metric label `what` and of the API.
enum class Fact { Server, Certificate, Addresses, Version, Body };
inline constexpr Fact kAllFacts[] = {Fact::Server, Fact::Certificate, Fact::Addresses,
                                     Fact::Version, Fact::Body};

const char* toString(Fact fact);  // "server", "certificate", "addresses", "version", "body"
std::optional<Fact> factFromString(const std::string& name);

// A set of facts. Default: server, certificate, addresses and version (not body: hashing every
// body costs CPU, and many bodies change on every request).
class TrackedFacts {
 public:
  TrackedFacts() = default;
  static TrackedFacts none() { return TrackedFacts(0); }
  bool tracks(Fact fact) const { return (bits_ & bit(fact)) != 0; }
  void add(Fact fact) { bits_ = static_cast<std::uint8_t>(bits_ | bit(fact)); }
  bool empty() const { return bits_ == 0; }
  bool operator==(const TrackedFacts&) const = default;

 private:
  explicit TrackedFacts(std::uint8_t bits) : bits_(bits) {}
  static std::uint8_t bit(Fact fact) {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(fact));
  }
  std::uint8_t bits_ = 0b01111;  // server, certificate, addresses, version
};

struct HttpCheckSpec {
  std::string scheme = "https";
  std::optional<int> port;
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool followRedirects = true;
  int maxRedirects = 10;
  std::int64_t bodyLimitBytes = 1 << 20;
  TlsOptions tls;
  CheckSecrets secrets;
  HttpExpect expect;
  ValueSource version;  // where the deployed version is read; none: not read
  TrackedFacts track;
  bool tracks(Fact fact) const { return track.tracks(fact); }
  bool operator==(const HttpCheckSpec&) const = default;
};

struct CheckDef {
  std::string name;
  std::optional<Duration> interval;
  std::optional<Duration> timeout;
  std::shared_ptr<const HttpCheckSpec> http;  // the only kind so far
  SourceLocation where;
};

struct ServiceDef {
  std::string name;
  HostnameSpec internal;
  HostnameSpec publicNames;
  std::map<std::string, std::vector<std::string>> backends;  // env -> ["10.0.1.5:443", ...]
  std::map<std::string, SourceLocation> backendsWhere;
  std::optional<AddressMode> addressMode;
  std::vector<CheckDef> checks;
  SourceLocation where;
};

struct Catalog {
  std::vector<EnvironmentDef> environments;
  std::vector<ServiceDef> services;
  std::map<std::string, std::size_t> serviceIndex;  // name -> position in services
  const EnvironmentDef* findEnvironment(const std::string& name) const;
};

struct AgentDefaults {
  Duration interval = std::chrono::seconds(30);
  Duration timeout = std::chrono::seconds(10);
  AddressMode addressMode = AddressMode::First;
};

struct DnsSettings {
  std::vector<std::string> servers;  // "host:port" or "host"; empty = system resolv.conf
  Duration timeout = std::chrono::seconds(2);
  int tries = 2;
  bool operator==(const DnsSettings&) const = default;
};

struct SchedulerSettings {
  double jitter = 0.05;   // fraction of the interval, 0..0.5
  int maxInflight = 256;  // global cap on concurrent probes
};

// The control API (`api:`). Off when no `api:` is given (token empty).
struct ApiSettings {
  std::string tokenFile;  // resolved path, relative to the agent file's directory
  std::string token;      // the file's content, trimmed; never shown
  SourceLocation where;   // of token_file in the agent file
  bool enabled() const { return !token.empty(); }
};

// What the agent exposes per target (`metrics:`); both on by default. Off cuts series for very
// large fleets. Read at start: a change takes effect on restart.
struct MetricsSettings {
  bool phases = true;               // probe_http_duration_seconds{phase} (5 series a target)
  bool perServiceHistogram = true;  // envprobe_probe_duration_seconds by service/check
  bool operator==(const MetricsSettings&) const = default;
};

struct AgentConfig {
  std::string file;         // the agent file as given
  std::string environment;  // empty: a catalog-only file
  SourceLocation environmentWhere;
  std::vector<std::string> includes;  // resolved file paths, in load order
  std::vector<std::string> includePatterns;  // as globbed (relative to the agent file's dir)
  AgentDefaults defaults;
  DnsSettings dns;
  SchedulerSettings scheduler;
  std::string listen;  // empty: from the command line / default
  AlertSettings alerting;  // alerting is on when alerting.alertmanagers is not empty
  std::vector<MaintenanceWindow> maintenance;
  ApiSettings api;
  MetricsSettings metrics;
  Catalog catalog;
};

}  // namespace envprobe
