#pragma once
// Judges an HTTP probe's Observation against the check's expectations: Observation -> Verdict,
// and reads the facts the check asks for (its deployed version, its body's hash).
// Pure: no I/O, no clock. User regexes use RE2, so matching time is linear in the input, and are
// compiled with a memory budget (regexOptions() in regex_budget.hpp). JSON bodies are streamed, not
// turned into a DOM: only the values at the expected paths are kept, nesting is limited to 256
// levels. The work is still proportional to the body, so the agent evaluates off its event loop
// (probe/engine/verdict_pool.hpp) unless cheapFor() says the observation is small enough.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checks/observation.hpp"
#include "checks/verdict.hpp"
#include "probe/config/config_model.hpp"

namespace re2 {
class RE2;
}

namespace envprobe {

// Maps a transport error to its Reason.
Reason reasonFor(TransportError error);

// Compiled once per check (regexes compiled at construction), evaluated per probe.
// Immutable after construction; evaluate() is const and keeps its state on the caller's stack
// (RE2 matching is thread-safe: its DFA cache is locked inside RE2), so one instance may be
// shared by all targets of a check and evaluated from several threads at once. A pattern that
// fails to compile does not throw (a failing probe is data): the step that needs it fails with
// Reason::Error naming the pattern.
class HttpAssertions {
 public:
  // env: the agent's environment name; "{env}" in JSON expected values and in body_contains /
  // body_not_contains strings is replaced by it.
  HttpAssertions(const HttpExpect& expect, const std::string& env);
  // The check's expectations plus where its version is read and whether its body is hashed.
  HttpAssertions(const HttpCheckSpec& spec, const std::string& env);

  // Steps in order, first failure wins: transport, status, body strings, body regex, headers,
  // JSON, identity, duration. Whenever a response was received (statusCode > 0), failing or not,
  // the verdict also carries the version read from it (trimmed, valid UTF-8, at most
  // kMaxVersionBytes, control characters replaced; empty when absent) and, when the check tracks
  // the body, the body's SHA-256. One JSON pass serves the json step, the identity and the
  // version. Thread-safe.
  Verdict evaluate(const Observation& observation) const;
  // evaluate() of an Observation the judge owns: the body is made valid UTF-8 first when a step
  // reads it (a body no step reads is left as it is: it is dropped after judging).
  Verdict evaluateOwned(Observation& observation) const;

  // Whether judging `observation` is cheap enough for the event loop: the work the steps do is
  // proportional to what the target sent, so it is bounded here. False whenever a regex is
  // asked for (body, header, identity or version: a regex's match cache is shared with the
  // worker pool, behind a lock). Otherwise true when no step reads the body or the body is small
  // (kCheapScanBytes for substring search, hashing and the UTF-8 check; kCheapMatchBytes when a
  // JSON path reads it). Otherwise the agent judges on its worker pool.
  bool cheapFor(const Observation& observation) const;

  static constexpr std::size_t kMaxVersionBytes = 128;
  static constexpr std::size_t kCheapScanBytes = 16 * 1024;
  static constexpr std::size_t kCheapMatchBytes = 2 * 1024;

 private:
  struct CompiledRegex {
    std::string pattern;
    std::shared_ptr<const re2::RE2> re;  // shared: keeps the class copyable, RE2 is not
  };
  struct HeaderRule {
    std::string name;
    CompiledRegex value;
  };
  // A value read from a response: a JSON path (its index among jsonPaths_), a header, a regex.
  struct Source {
    ValueSource spec;
    CompiledRegex regex;  // Kind::Regex only
    std::size_t jsonIndex = 0;  // Kind::Json only
  };
  struct Identity {
    Source source;
    std::string expected;  // {env} expanded
  };
  class Reading;  // one evaluation's lazily scanned JSON body

  Source makeSource(const ValueSource& spec);
  void noteBodyReaders();
  Verdict judge(const Observation& observation, Reading& reading) const;
  std::optional<Verdict> checkStatus(const Observation& observation) const;
  std::optional<Verdict> checkBody(const Observation& observation) const;
  std::optional<Verdict> checkHeaders(const Observation& observation) const;
  std::optional<Verdict> checkJson(Reading& reading) const;
  std::optional<Verdict> checkIdentity(Reading& reading) const;
  std::optional<Verdict> checkDuration(const Observation& observation) const;

  std::vector<StatusRange> status_;
  std::vector<std::string> bodyContains_;
  std::vector<std::string> bodyNotContains_;
  std::vector<CompiledRegex> bodyRegex_;
  std::vector<HeaderRule> headers_;
  std::vector<JsonExpectation> json_;
  std::optional<Duration> maxDuration_;
  std::optional<Identity> identity_;
  std::optional<Source> version_;
  bool hashBody_ = false;
  // Every JSON path read, in one pass: json_'s first, then the identity's and the version's.
  std::vector<std::string> jsonPaths_;
  std::size_t jsonKeepBytes_ = 0;
  // What reads the body (noteBodyReaders): any step, and a regex or a JSON path among them.
  bool readsBody_ = false;
  bool matchesBody_ = false;
  bool usesRegex_ = false;  // a body, header, identity or version regex: never judged on the loop
};

}  // namespace envprobe
