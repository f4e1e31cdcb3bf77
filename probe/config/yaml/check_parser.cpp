// yaml-cpp -> CheckDef / HttpCheckSpec.
#include <algorithm>
#include <cctype>
#include <set>

#include "checks/regex_budget.hpp"
#include "probe/config/address_rules.hpp"
#include "probe/config/yaml/catalog_parser.hpp"
#include "probe/config/yaml/deploy_parser.hpp"
#include "probe/config/yaml/secret_parser.hpp"
#include "probe/base/duration.hpp"

namespace envprobe {

namespace {

// Space, DEL or a control character: never valid unencoded in a URL path.
bool hasSpaceOrControl(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

std::optional<StatusRange> parseStatus(const std::string& text) {
  auto toCode = [](const std::string& s) -> std::optional<int> {
    if (s.size() != 3) return std::nullopt;
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    const int code = std::stoi(s);
    if (code < 100 || code > 599) return std::nullopt;
    return code;
  };
  const auto dash = text.find('-');
  if (dash == std::string::npos) {
    auto code = toCode(text);
    if (!code) return std::nullopt;
    return StatusRange{*code, *code};
  }
  auto lo = toCode(text.substr(0, dash));
  auto hi = toCode(text.substr(dash + 1));
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  return StatusRange{*lo, *hi};
}

// Compiled now, with the options and budget the assertions use, so that a pattern that would not
// compile or would be too costly on a large body is refused here rather than at probe time.
void checkRegex(const YamlContext& ctx, const YAML::Node& node, const std::string& path,
                const std::string& pattern) {
  if (auto error = regexBudgetError(pattern))
    ctx.error(node, path, *error + " (pattern \"" + pattern + "\")");
}

HttpExpect parseExpect(const YamlContext& ctx, const YAML::Node& node, const std::string& path) {
  HttpExpect expect;
  MapReader reader(ctx, node, path,
                   {"status", "body_contains", "body_not_contains", "body_regex", "headers", "json",
                    "max_duration", "identity"});
  if (!reader.isMap()) return expect;
  if (auto status = reader.get("status")) {
    const std::string statusPath = reader.childPath("status");
    // A single code or range, or a list of them. (yaml-cpp nodes are shared references, so the
    // items are collected rather than wrapping the scalar in a new sequence node.)
    std::vector<std::pair<YAML::Node, std::string>> items;
    if (status->IsScalar()) {
      items.emplace_back(*status, statusPath);
    } else if (status->IsSequence()) {
      for (std::size_t i = 0; i < status->size(); ++i)
        items.emplace_back((*status)[i], statusPath + "[" + std::to_string(i) + "]");
    } else {
      ctx.error(*status, statusPath, "expected a list of codes and ranges like [200-299, 301]");
    }
    for (const auto& [item, itemPath] : items) {
      auto text = ctx.scalar(item, itemPath);
      if (!text) continue;
      if (auto range = parseStatus(*text)) expect.status.push_back(*range);
      else
        ctx.error(item, itemPath,
                  "invalid status \"" + *text +
                      "\"; expected a code 100-599 or a range like 200-299");
    }
  }
  if (auto v = reader.stringList("body_contains")) expect.bodyContains = *v;
  if (auto v = reader.stringList("body_not_contains")) expect.bodyNotContains = *v;
  if (auto v = reader.stringList("body_regex")) {
    expect.bodyRegex = *v;
    for (std::size_t i = 0; i < v->size(); ++i)
      checkRegex(ctx, (*reader.get("body_regex"))[i],
                 reader.childPath("body_regex") + "[" + std::to_string(i) + "]", (*v)[i]);
  }
  if (auto headers = reader.get("headers")) {
    const std::string headersPath = reader.childPath("headers");
    if (!headers->IsMap()) {
      ctx.error(*headers, headersPath, "expected a map header name -> regex");
    } else {
      std::set<std::string> seen;
      for (auto it = headers->begin(); it != headers->end(); ++it) {
        const std::string name = it->first.Scalar();
        if (!seen.insert(name).second) {
          ctx.error(it->first, headersPath + "." + name, "duplicate key");
          continue;
        }
        if (auto error = headerNameError(name)) {
          ctx.error(it->first, headersPath + "." + name, *error);
          continue;
        }
        auto regex = ctx.scalar(it->second, headersPath + "." + name);
        if (!regex) continue;
        checkRegex(ctx, it->second, headersPath + "." + name, *regex);
        expect.headers.push_back({name, *regex});
      }
    }
  }
  if (auto json = reader.get("json")) {
    const std::string jsonPath = reader.childPath("json");
    if (!json->IsMap()) {
      ctx.error(*json, jsonPath, "expected a map field.path -> expected value");
    } else {
      std::set<std::string> seen;
      for (auto it = json->begin(); it != json->end(); ++it) {
        const std::string field = it->first.Scalar();
        if (!seen.insert(field).second) {
          ctx.error(it->first, jsonPath + "." + field, "duplicate key");
          continue;
        }
        auto value = ctx.scalar(it->second, jsonPath + "." + field);
        if (value) expect.json.push_back({field, *value});
      }
    }
  }
  expect.maxDuration = reader.duration("max_duration", limits::kMaxDuration);
  if (auto identity = reader.get("identity"))
    expect.identity = parseIdentity(ctx, *identity, reader.childPath("identity"));
  return expect;
}

std::shared_ptr<const HttpCheckSpec> parseHttp(const YamlContext& ctx, const YAML::Node& node,
                                               const std::string& path) {
  MapReader reader(ctx, node, path,
                   {"scheme", "port", "method", "path", "headers", "body", "follow_redirects",
                    "max_redirects", "body_limit", "tls", "expect", "bearer_token_file",
                    "headers_from_file", "headers_from_env", "query_from_file", "query_from_env",
                    "version", "track"});
  if (!reader.isMap()) return nullptr;
  auto spec = std::make_shared<HttpCheckSpec>();
  if (auto v = reader.choice("scheme", {"http", "https"})) spec->scheme = *v;
  spec->port = reader.integer("port", limits::kPort);
  if (auto v = reader.choice("method", {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}))
    spec->method = *v;
  if (auto v = reader.string("path")) {
    if (v->empty() || (*v)[0] != '/')
      ctx.error(*reader.get("path"), reader.childPath("path"), "a path starts with '/'");
    else if (hasSpaceOrControl(*v))
      ctx.error(*reader.get("path"), reader.childPath("path"),
                "a path has no spaces or control characters; percent-encode them (%20)");
    spec->path = *v;
  }
  if (auto headers = reader.get("headers")) {
    if (!headers->IsMap()) {
      ctx.error(*headers, reader.childPath("headers"), "expected a map header name -> value");
    } else {
      // Sent as "name: value" lines: a CR or LF would end the header and smuggle in another.
      for (auto it = headers->begin(); it != headers->end(); ++it) {
        const std::string name = it->first.Scalar();
        const std::string headerPath = reader.childPath("headers") + "." + name;
        if (auto error = headerNameError(name)) {
          ctx.error(it->first, headerPath, *error);
          continue;
        }
        auto value = ctx.scalar(it->second, headerPath);
        if (!value) continue;
        if (auto error = headerValueError(*value)) {
          ctx.error(it->second, headerPath, *error);
          continue;
        }
        spec->headers.emplace_back(name, *value);
      }
    }
  }
  if (auto v = reader.string("body")) spec->body = *v;
  if (auto v = reader.boolean("follow_redirects")) spec->followRedirects = *v;
  if (auto v = reader.integer("max_redirects", limits::kMaxRedirects)) spec->maxRedirects = *v;
  if (auto v = reader.string("body_limit")) {
    auto bytes = parseByteSize(*v);
    if (!bytes || *bytes <= 0)
      ctx.error(*reader.get("body_limit"), reader.childPath("body_limit"),
                "invalid size \"" + *v + "\"; expected e.g. 1MiB, 512KiB or a byte count");
    else if (*bytes < limits::kBodyLimitMin || *bytes > limits::kBodyLimitMax)
      ctx.error(*reader.get("body_limit"), reader.childPath("body_limit"),
                "size \"" + *v + "\" is out of range: expected 1 byte to 1GiB");
    else spec->bodyLimitBytes = *bytes;
  }
  if (auto tls = reader.get("tls")) {
    MapReader tr(ctx, *tls, reader.childPath("tls"), {"insecure_skip_verify", "ca_file"});
    if (auto v = tr.boolean("insecure_skip_verify")) spec->tls.insecureSkipVerify = *v;
    if (auto v = tr.string("ca_file")) spec->tls.caFile = *v;
  }
  parseSecrets(ctx, reader, *spec);
  if (auto expect = reader.get("expect"))
    spec->expect = parseExpect(ctx, *expect, reader.childPath("expect"));
  if (auto version = reader.get("version")) {
    if (auto source = parseVersionSource(ctx, *version, reader.childPath("version")))
      spec->version = *source;
  }
  if (auto track = reader.get("track")) {
    if (auto facts = parseTrack(ctx, *track, reader.childPath("track"))) spec->track = *facts;
  }
  return spec;
}

}  // namespace

std::optional<CheckDef> parseCheck(const YamlContext& ctx, const YAML::Node& node,
                                   const std::string& path) {
  MapReader reader(ctx, node, path, {"name", "interval", "timeout", "http"});
  if (!reader.isMap()) return std::nullopt;
  CheckDef check;
  check.where = reader.where();
  reader.requireKey("name", "the check's name");
  if (auto name = reader.string("name")) {
    check.name = *name;
    const bool valid = !name->empty() && name->find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string::npos;
    if (!valid)
      ctx.error(*reader.get("name"), reader.childPath("name"),
                "a check name uses letters, digits, '-', '_' and '.' only");
  }
  check.interval = reader.duration("interval", limits::kInterval);
  check.timeout = reader.duration("timeout", limits::kTimeout);
  if (auto http = reader.get("http")) check.http = parseHttp(ctx, *http, reader.childPath("http"));
  else ctx.error(node, path, "missing the check kind: add an `http:` block");
  if (!check.http) return std::nullopt;
  return check;
}

}  // namespace envprobe
