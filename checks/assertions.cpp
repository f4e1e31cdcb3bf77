#include "checks/assertions.hpp"

#include "probe/base/text.hpp"
#include "checks/json_paths.hpp"
#include "checks/regex_budget.hpp"
#include "checks/response_facts.hpp"
#include "probe/base/utf8.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace envprobe {
namespace {

constexpr std::size_t kMaxQuoted = 120;  // keeps details readable on a status page
constexpr std::size_t kMaxListedValues = 5;
constexpr std::size_t kMaxIdentityShown = 64;  // an identity's value in a detail

std::shared_ptr<const re2::RE2> compile(const std::string& pattern) {
  return std::make_shared<const re2::RE2>(pattern, regexOptions());
}

std::string replaceEnv(std::string text, const std::string& env) {
  static const std::string kToken = "{env}";
  for (std::size_t at = text.find(kToken); at != std::string::npos;
       at = text.find(kToken, at + env.size())) {
    text.replace(at, kToken.size(), env);
  }
  return text;
}

// Truncated (not cutting a UTF-8 sequence in half), control characters escaped: details end up
// in logs and alert texts.
std::string shown(std::string_view text, std::size_t limit = kMaxQuoted) {
  std::size_t length = utf8PrefixLength(text, limit);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (length < text.size()) out += "...";
  return out;
}

std::string quote(std::string_view text) { return '"' + shown(text) + '"'; }

// A value read from a response, quoted within kMaxIdentityShown bytes of valid UTF-8.
std::string quoteBounded(std::string_view text) {
  const std::size_t length = utf8PrefixLength(text, kMaxIdentityShown);
  const std::string valid = makeValidUtf8(text.substr(0, length));
  std::string out = shown(valid, kMaxIdentityShown);  // adds "..." when it cuts
  if (length < text.size() && valid.size() <= kMaxIdentityShown) out += "...";
  return '"' + out + '"';
}

// How a source is named in a detail: json env, header X-Environment, regex "env=(\w+)".
std::string describe(const ValueSource& source) {
  if (source.kind == ValueSource::Kind::Regex) return "regex " + quote(source.key);
  return std::string(toString(source.kind)) + ' ' + source.key;
}

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lowerAscii(x) == lowerAscii(y);
         });
}


std::string formatRanges(const std::vector<StatusRange>& ranges) {
  std::string out = "[";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ranges[i].lo);
    if (ranges[i].hi != ranges[i].lo) out += '-' + std::to_string(ranges[i].hi);
  }
  return out + ']';
}

std::string formatNumber(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string out = buf;
  if (out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

// Enough decimals that the printed duration is visibly above the budget ("took 2.001s", not "2s").
std::string formatTook(double seconds, double budget) {
  std::string text;
  for (int decimals = 2; decimals <= 6; ++decimals) {
    text = formatNumber(seconds, decimals);
    if (std::strtod(text.c_str(), nullptr) > budget) break;
  }
  return text;
}

Verdict fail(Reason reason, std::string detail, bool dueToRegex = false) {
  Verdict verdict;
  verdict.ok = false;
  verdict.reason = reason;
  verdict.detail = std::move(detail);
  verdict.failedDueToRegex = dueToRegex;
  return verdict;
}

Verdict badRegex(const char* what, const std::string& pattern, const re2::RE2& re) {
  return fail(Reason::Error,
              std::string("invalid ") + what + ' ' + quote(pattern) + ": " + re.error());
}

}  // namespace

Reason reasonFor(TransportError error) {
  switch (error) {
    case TransportError::None:
      return Reason::None;
    case TransportError::DnsNxdomain:
      return Reason::DnsNxdomain;
    case TransportError::DnsServfail:
      return Reason::DnsServfail;
    case TransportError::DnsRefused:
      return Reason::DnsRefused;
    case TransportError::DnsTimeout:
      return Reason::DnsTimeout;
    case TransportError::DnsOther:
      return Reason::Dns;
    case TransportError::Connect:
      return Reason::Connect;
    case TransportError::Tls:
      return Reason::Tls;
    case TransportError::Timeout:
      return Reason::Timeout;
    case TransportError::BodyTooLarge:
      return Reason::BodyTooLarge;
    case TransportError::Redirects:
      return Reason::Redirects;
    case TransportError::Other:
      return Reason::Error;
  }
  return Reason::Error;
}

// One evaluation's view of the response: the JSON body is scanned once, when first needed, for
// every path the check reads (json step, identity, version).
class HttpAssertions::Reading {
 public:
  struct Value {
    enum class State { Found, Missing, BadJson, BadRegex };
    State state = State::Missing;
    std::string text;        // Found: the value's text (a JSON value's possibly cut short)
    bool truncated = false;  // a JSON value longer than the kept bytes
    std::string why;         // BadJson: the scan's error; BadRegex: RE2's
  };

  Reading(const HttpAssertions& owner, const Observation& observation)
      : observation(observation), owner_(owner) {}

  const Observation& observation;

  const JsonPathScan& json() {
    if (!scan_) scan_ = scanJsonPaths(observation.body, owner_.jsonPaths_, owner_.jsonKeepBytes_);
    return *scan_;
  }

  Value read(const Source& source) {
    Value out;
    using Kind = ValueSource::Kind;
    switch (source.spec.kind) {
      case Kind::None:
        break;
      case Kind::Json: {
        const JsonPathScan& scan = json();
        if (scan.error) return {Value::State::BadJson, {}, false, *scan.error};
        const JsonPathValue& value = scan.values[source.jsonIndex];
        using JsonKind = JsonPathValue::Kind;
        const bool usable = value.kind == JsonKind::String ||
                            (value.kind == JsonKind::Other && value.text != "null");
        if (usable) out = {Value::State::Found, value.text, value.truncated, {}};
        break;
      }
      case Kind::Header:
        for (const auto& [name, value] : observation.headers) {
          if (!equalsIgnoreCase(name, source.spec.key)) continue;
          out = {Value::State::Found, std::string(trimSpace(value)), false, {}};  // the first one
          break;
        }
        break;
      case Kind::Regex: {
        const re2::RE2& re = *source.regex.re;
        if (!re.ok()) return {Value::State::BadRegex, {}, false, re.error()};
        re2::StringPiece match[2];
        const int group = re.NumberOfCapturingGroups() >= 1 ? 1 : 0;
        const re2::StringPiece body(observation.body.data(), observation.body.size());
        if (re.Match(body, 0, body.size(), re2::RE2::UNANCHORED, match, group + 1) &&
            match[group].data() != nullptr) {
          out = {Value::State::Found,
                 std::string(match[group].data(), match[group].size()),
                 false,
                 {}};
        }
        break;
      }
    }
    return out;
  }

 private:
  const HttpAssertions& owner_;
  std::optional<JsonPathScan> scan_;
};

HttpAssertions::HttpAssertions(const HttpExpect& expect, const std::string& env)
    : status_(expect.status), maxDuration_(expect.maxDuration) {
  for (const auto& text : expect.bodyContains) bodyContains_.push_back(replaceEnv(text, env));
  for (const auto& text : expect.bodyNotContains) bodyNotContains_.push_back(replaceEnv(text, env));
  for (const auto& pattern : expect.bodyRegex) bodyRegex_.push_back({pattern, compile(pattern)});
  for (const auto& header : expect.headers) {
    headers_.push_back({header.name, {header.regex, compile(header.regex)}});
  }
  // Keep enough of each JSON value to compare it and to show it: a longer text cannot be equal.
  jsonKeepBytes_ = std::max(kMaxQuoted, kMaxVersionBytes);
  for (const auto& field : expect.json) {
    json_.push_back({field.path, replaceEnv(field.expected, env)});
    jsonPaths_.push_back(field.path);
    jsonKeepBytes_ = std::max(jsonKeepBytes_, json_.back().expected.size());
  }
  if (expect.identity && expect.identity->source.set()) {
    identity_ =
        Identity{makeSource(expect.identity->source), replaceEnv(expect.identity->equals, env)};
    jsonKeepBytes_ = std::max(jsonKeepBytes_, identity_->expected.size());
  }
  ++jsonKeepBytes_;  // one more byte tells a longer value from an equal one
  noteBodyReaders();
}

HttpAssertions::HttpAssertions(const HttpCheckSpec& spec, const std::string& env)
    : HttpAssertions(spec.expect, env) {
  if (spec.version.set()) version_ = makeSource(spec.version);
  hashBody_ = spec.tracks(Fact::Body);
  noteBodyReaders();
}

void HttpAssertions::noteBodyReaders() {
  using Kind = ValueSource::Kind;
  const auto matches = [](const Source& source) {
    return source.spec.kind == Kind::Regex || source.spec.kind == Kind::Json;
  };
  matchesBody_ = !bodyRegex_.empty() || !jsonPaths_.empty() ||
                 (identity_ && matches(identity_->source)) || (version_ && matches(*version_));
  readsBody_ = matchesBody_ || hashBody_ || !bodyContains_.empty() || !bodyNotContains_.empty();
  const auto isRegex = [](const Source& source) { return source.spec.kind == Kind::Regex; };
  usesRegex_ = !bodyRegex_.empty() || !headers_.empty() ||
               (identity_ && isRegex(identity_->source)) || (version_ && isRegex(*version_));
}

bool HttpAssertions::cheapFor(const Observation& observation) const {
  // A compiled regex is shared by every target of its check, and the worker pool may be
  // searching a large body with it: its match cache's lock could make the loop wait for that.
  if (usesRegex_) return false;
  if (readsBody_ &&
      observation.body.size() > (matchesBody_ ? kCheapMatchBytes : kCheapScanBytes))
    return false;
  if (!headers_.empty()) {
    std::size_t bytes = 0;
    for (const auto& [name, value] : observation.headers) bytes += name.size() + value.size();
    if (bytes > kCheapMatchBytes) return false;
  }
  return true;
}

Verdict HttpAssertions::evaluateOwned(Observation& observation) const {
  if (readsBody_ && !isValidUtf8(observation.body))
    observation.body = makeValidUtf8(observation.body);
  return evaluate(observation);
}

HttpAssertions::Source HttpAssertions::makeSource(const ValueSource& spec) {
  Source source{spec, {}, 0};
  if (spec.kind == ValueSource::Kind::Regex) source.regex = {spec.key, compile(spec.key)};
  if (spec.kind == ValueSource::Kind::Json) {
    source.jsonIndex = jsonPaths_.size();
    jsonPaths_.push_back(spec.key);
  }
  return source;
}

Verdict HttpAssertions::evaluate(const Observation& observation) const {
  Reading reading(*this, observation);
  Verdict verdict = judge(observation, reading);
  if (observation.statusCode > 0) {
    if (version_) {
      const Reading::Value value = reading.read(*version_);
      if (value.state == Reading::Value::State::Found)
        verdict.version = factText(value.text, kMaxVersionBytes);
    }
    if (hashBody_) verdict.bodySha256 = sha256Hex(observation.body);
  }
  return verdict;
}

Verdict HttpAssertions::judge(const Observation& observation, Reading& reading) const {
  if (observation.transportError != TransportError::None) {
    Reason reason = reasonFor(observation.transportError);
    return fail(reason, observation.transportDetail.empty() ? toString(reason)
                                                            : observation.transportDetail);
  }
  for (auto step :
       {&HttpAssertions::checkStatus, &HttpAssertions::checkBody, &HttpAssertions::checkHeaders}) {
    if (auto failure = (this->*step)(observation)) return *std::move(failure);
  }
  if (auto failure = checkJson(reading)) return *std::move(failure);
  if (auto failure = checkIdentity(reading)) return *std::move(failure);
  if (auto failure = checkDuration(observation)) return *std::move(failure);
  Verdict verdict;
  verdict.ok = true;
  verdict.reason = Reason::None;
  return verdict;
}

std::optional<Verdict> HttpAssertions::checkStatus(const Observation& observation) const {
  static const std::vector<StatusRange> kDefault{StatusRange{200, 299}};
  const auto& ranges = status_.empty() ? kDefault : status_;
  int code = observation.statusCode;
  if (std::any_of(ranges.begin(), ranges.end(),
                  [code](const auto& r) { return r.contains(code); })) {
    return std::nullopt;
  }
  return fail(Reason::HttpStatus,
              "status " + std::to_string(code) + " not in " + formatRanges(ranges));
}

std::optional<Verdict> HttpAssertions::checkBody(const Observation& observation) const {
  const std::string& body = observation.body;
  for (const auto& text : bodyContains_) {
    if (body.find(text) == std::string::npos) {
      return fail(Reason::Body, "body does not contain " + quote(text));
    }
  }
  for (const auto& text : bodyNotContains_) {
    if (body.find(text) != std::string::npos) {
      return fail(Reason::Body, "body contains forbidden " + quote(text));
    }
  }
  for (const auto& rule : bodyRegex_) {
    if (!rule.re->ok()) return badRegex("body_regex", rule.pattern, *rule.re);
    if (!re2::RE2::PartialMatch(body, *rule.re)) {
      return fail(Reason::Body, "body does not match regex " + quote(rule.pattern), true);
    }
  }
  return std::nullopt;
}

std::optional<Verdict> HttpAssertions::checkHeaders(const Observation& observation) const {
  for (const auto& rule : headers_) {
    if (!rule.value.re->ok()) return badRegex("header regex", rule.value.pattern, *rule.value.re);
    std::vector<std::string_view> values;
    for (const auto& [name, value] : observation.headers) {
      if (equalsIgnoreCase(name, rule.name)) values.push_back(trimSpace(value));
    }
    if (values.empty()) return fail(Reason::Header, "header " + rule.name + " missing");
    // A repeated header passes when any of its values matches.
    bool matched = std::any_of(values.begin(), values.end(), [&](std::string_view value) {
      return re2::RE2::FullMatch(value, *rule.value.re);
    });
    if (matched) continue;
    std::string detail = "header " + rule.name + ": ";
    if (values.size() == 1) {
      detail += quote(values.front()) + " does not match " + quote(rule.value.pattern);
    } else {
      detail += "none of ";
      for (std::size_t i = 0; i < values.size() && i < kMaxListedValues; ++i) {
        detail += (i > 0 ? ", " : "") + quote(values[i]);
      }
      if (values.size() > kMaxListedValues) detail += ", ...";
      detail += " matches " + quote(rule.value.pattern);
    }
    return fail(Reason::Header, std::move(detail), true);
  }
  return std::nullopt;
}

std::optional<Verdict> HttpAssertions::checkJson(Reading& reading) const {
  if (json_.empty()) return std::nullopt;
  const JsonPathScan& scan = reading.json();
  if (scan.error) return fail(Reason::Json, *scan.error);
  for (std::size_t i = 0; i < json_.size(); ++i) {
    const auto& field = json_[i];
    const JsonPathValue& value = scan.values[i];
    using Kind = JsonPathValue::Kind;
    if (value.kind == Kind::Missing) return fail(Reason::Json, "json " + field.path + ": missing");
    bool comparable = value.kind == Kind::String || value.kind == Kind::Other;
    if (comparable && !value.truncated && value.text == field.expected) continue;
    std::string got;
    if (value.kind == Kind::TooDeep) {
      got = "a value nested deeper than " + std::to_string(kMaxJsonValueDepth) + " levels";
    } else if (value.kind == Kind::TooLarge) {
      got = "a value larger than " + std::to_string(kMaxJsonValueBytes >> 20) + " MiB";
    } else if (value.kind == Kind::String) {
      got = quote(value.text);
    } else {
      got = shown(value.text);  // a number, object or array: its JSON text, unquoted
    }
    return fail(Reason::Json,
                "json " + field.path + ": got " + got + ", want " + quote(field.expected));
  }
  return std::nullopt;
}

std::optional<Verdict> HttpAssertions::checkIdentity(Reading& reading) const {
  if (!identity_) return std::nullopt;
  using State = Reading::Value::State;
  const Reading::Value value = reading.read(identity_->source);
  const std::string where = describe(identity_->source.spec);
  const std::string expected = ", expected " + quoteBounded(identity_->expected);
  switch (value.state) {
    case State::BadJson:
      return fail(Reason::Json, value.why);
    case State::BadRegex:
      return fail(Reason::Error,
                  "invalid identity regex " + quote(identity_->source.spec.key) + ": " + value.why);
    case State::Missing:
      if (identity_->source.spec.kind == ValueSource::Kind::Regex)
        return fail(Reason::WrongEnvironment,
                    "no identity: " + where + " does not match" + expected, true);
      return fail(Reason::WrongEnvironment, "no identity at " + where + expected);
    case State::Found:
      break;
  }
  const std::string_view text = trimSpace(value.text);
  if (!value.truncated && text == identity_->expected) return std::nullopt;
  return fail(Reason::WrongEnvironment,
              "identity " + quoteBounded(text) + " (" + where + ")" + expected);
}

std::optional<Verdict> HttpAssertions::checkDuration(const Observation& observation) const {
  if (!maxDuration_) return std::nullopt;
  double budget = static_cast<double>(maxDuration_->count()) / 1000.0;
  if (!(observation.durationSeconds > budget)) return std::nullopt;
  return fail(Reason::TooSlow, "took " + formatTook(observation.durationSeconds, budget) +
                                   "s, budget " + formatNumber(budget, 3) + "s");
}

}  // namespace envprobe
