#include "checks/assertions.hpp"

#include "checks/json_paths.hpp"
#include "checks/regex_budget.hpp"

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

// Length of a prefix of at most kMaxQuoted bytes that does not cut a UTF-8 sequence in half.
std::size_t shownLength(std::string_view text) {
  std::size_t length = std::min(text.size(), kMaxQuoted);
  while (length < text.size() && length > 0 &&
         (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) {
    --length;
  }
  return length;
}

// Truncated, control characters escaped: details end up in logs and alert texts.
std::string shown(std::string_view text) {
  std::size_t length = shownLength(text);
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

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lowerAscii(x) == lowerAscii(y);
         });
}

// Leading/trailing whitespace is not part of a header field value (RFC 9110 5.5).
std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
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

HttpAssertions::HttpAssertions(const HttpExpect& expect, const std::string& env)
    : status_(expect.status), maxDuration_(expect.maxDuration) {
  for (const auto& text : expect.bodyContains) bodyContains_.push_back(replaceEnv(text, env));
  for (const auto& text : expect.bodyNotContains) bodyNotContains_.push_back(replaceEnv(text, env));
  for (const auto& pattern : expect.bodyRegex) bodyRegex_.push_back({pattern, compile(pattern)});
  for (const auto& header : expect.headers) {
    headers_.push_back({header.name, {header.regex, compile(header.regex)}});
  }
  for (const auto& field : expect.json)
    json_.push_back({field.path, replaceEnv(field.expected, env)});
}

Verdict HttpAssertions::evaluate(const Observation& observation) const {
  if (observation.transportError != TransportError::None) {
    Reason reason = reasonFor(observation.transportError);
    return fail(reason, observation.transportDetail.empty() ? toString(reason)
                                                            : observation.transportDetail);
  }
  for (auto step :
       {&HttpAssertions::checkStatus, &HttpAssertions::checkBody, &HttpAssertions::checkHeaders,
        &HttpAssertions::checkJson, &HttpAssertions::checkDuration}) {
    if (auto failure = (this->*step)(observation)) return *std::move(failure);
  }
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
      if (equalsIgnoreCase(name, rule.name)) values.push_back(trim(value));
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

std::optional<Verdict> HttpAssertions::checkJson(const Observation& observation) const {
  if (json_.empty()) return std::nullopt;
  // Keep enough of each value to compare it and to show it: a longer text cannot be equal.
  std::size_t keepBytes = kMaxQuoted;
  std::vector<std::string> paths;
  for (const auto& field : json_) {
    keepBytes = std::max(keepBytes, field.expected.size());
    paths.push_back(field.path);
  }
  JsonPathScan scan = scanJsonPaths(observation.body, paths, keepBytes + 1);
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

std::optional<Verdict> HttpAssertions::checkDuration(const Observation& observation) const {
  if (!maxDuration_) return std::nullopt;
  double budget = static_cast<double>(maxDuration_->count()) / 1000.0;
  if (!(observation.durationSeconds > budget)) return std::nullopt;
  return fail(Reason::TooSlow, "took " + formatTook(observation.durationSeconds, budget) +
                                   "s, budget " + formatNumber(budget, 3) + "s");
}

}  // namespace envprobe
