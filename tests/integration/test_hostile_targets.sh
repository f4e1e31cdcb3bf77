#!/usr/bin/env bash
# ctest-labels: hostile
# Hostile targets cost a probe its timeout or its limit, never the agent: beside a healthy
# control target probed every 1 s, targets that send NUL and invalid UTF-8 bytes, headers one byte
# every 2 s, an endless body, a 1 MB header line, 10,000 headers, a reset mid-body, a gzip bomb,
# a 50 MB JSON body, 100,000-deep JSON and a regex that is slow without a DFA each fail with their
# own reason, while the agent stays up and healthy, its /api/v1/targets stays valid JSON, the
# control target stays on time and RSS stays under 300 MB.
#
# Reasons expected, and why where there is a choice:
#   bin-status, bin-headers  error        NUL bytes in the response head: a malformed response
#   bad-utf8                 header       X-Bin does not match; the detail quotes hostile bytes
#   bin-body                 body         no "welcome" in a binary body
#   slowloris                timeout      at the check's 2 s timeout
#   endless, gzip-bomb       body_too_large  at 64 KiB, quickly (the limit is on the decoded body)
#   bigheader                error        with a detail that says the header is too large
#   manyheaders              none|error   a valid response within curl's limits; quick either way
#   rst                      error|connect   (curl: "Recv failure: Connection reset by peer")
#   bigjson                  json         50 MB is within its 64 MiB body_limit, so body_too_large
#                                         would contradict the config; "status" is not "ok"
#   deepjson                 json         nesting far beyond any sane depth
#   regex                    body (no match), or the pattern refused at load with a clear error
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$EP_LIB_DIR/hostile_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

WATCH=16 # seconds of the main phase
hostile_start control --mode ok
control_port=$HS_PORT
hostile_start hostile
port=$HS_PORT
step "control server on 127.0.0.1:$control_port, hostile server on 127.0.0.1:$port"

step "fixture: the hostile server misbehaves as intended (curl)"
fixture() { # MODE EXPECTED_CURL_EXIT
  local rc=0
  curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$port/$1" || rc=$?
  [[ "$rc" == "$2" ]] || die "fixture: /$1: expected curl exit $2, saw $rc"
  pass "fixture: /$1: curl exit $rc"
}
fixture ok 0
fixture bin-status 8    # Nul byte in header
fixture rst 56          # Connection reset by peer
fixture slowloris 28    # timeout
fixture bigheader 27    # curl's own header size limit
bytes=$(curl -s --max-time 5 --compressed "http://127.0.0.1:$port/gzip-bomb" | wc -c)
[[ "$bytes" == 10485760 ]] || die "fixture: /gzip-bomb decodes to $bytes bytes, expected 10485760"
pass "fixture: /gzip-bomb decodes to 10 MiB"

# service NAME PATH [INTERVAL TIMEOUT BODY_LIMIT HTTP_EXTRA EXPECT_EXTRA PORT]: one service per
# target, pinned to the hostile server (or PORT).
service() {
  cat <<EOF
  - name: $1
    hostnames: { internal: [$1.test], public: [] }
    backends: { at: ["127.0.0.1:${8:-$port}"] }
    checks:
      - name: home
        interval: ${3:-3s}
        timeout: ${4:-2s}
        http:
          scheme: http
          port: ${8:-$port}
          path: $2
          body_limit: ${5:-64KiB}
          ${6:-}
          expect: { status: [200] ${7:-} }
EOF
}
agent_yaml() { # EXTRA_SERVICES...
  echo "environment: at"
  loopback_dns_yaml
  echo "environments: { at: { tier: nonprod } }"
  echo "services:"
  service control /ok 1s 1s "" "" "" "$control_port"
  local s
  for s in "$@"; do echo "$s"; done
}

regex_service=$(service regex /regex 2s 2s 2MiB "" ', body_regex: ["a.{1000}b"]')
step "the pathological pattern a.{1000}b: refused at load, or loaded (then probed below)"
agent_yaml "$regex_service" >"$EP_TMP/regex.yaml"
rc=0
"$ENVPROBE" check-config "$EP_TMP/regex.yaml" >"$EP_TMP/regex-check.log" 2>&1 || rc=$?
REGEX_LOADED=yes
if [[ "$rc" != 0 ]]; then
  REGEX_LOADED=no
  sed 's/^/   /' "$EP_TMP/regex-check.log"
  expect_eq "check-config exit code for a.{1000}b" 1 "$rc"
  expect_eq "check-config names the pattern" yes \
    "$(grep -qF 'a.{1000}b' "$EP_TMP/regex-check.log" && echo yes || echo no)"
  expect_eq "check-config names the key" yes \
    "$(grep -qF 'body_regex' "$EP_TMP/regex-check.log" && echo yes || echo no)"
  rc=0
  timeout 10 "$ENVPROBE" run --config.file="$EP_TMP/regex.yaml" \
    --web.listen-address="127.0.0.1:$(free_port)" >"$EP_TMP/regex-run.log" 2>&1 || rc=$?
  expect_eq "run exit code for a.{1000}b" 1 "$rc"
  expect_eq "run names the pattern" yes \
    "$(grep -qF 'a.{1000}b' "$EP_TMP/regex-run.log" && echo yes || echo no)"
  regex_service=""
else
  pass "check-config accepts a.{1000}b; the control target must then stay on time beside it"
fi

# expect_reason HOST REASON...: the reason the target is failing with (the label of its
# envprobe_probe_failure_reason that is 1; "none" when passing) is one of REASONs; when failing,
# probe_success is 0 and probe_failures_total counts that reason.
expect_reason() {
  local host="$1" reason
  shift
  reason=$("$EP_PY" - "$EP_TMP/metrics.txt" "$host" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r'^envprobe_probe_failure_reason\{(.*)\}\s+1(\.0*)?$', line.strip())
    if m and f'hostname="{sys.argv[2]}"' in m.group(1):
        print(re.search(r'reason="([^"]*)"', m.group(1)).group(1))
PY
  )
  echo "   $host: reason=${reason:-none} success=$(metric probe_success hostname="$host")" \
    "status=$(target_api status_code "$host") duration=$(target_api duration_seconds "$host")s" \
    "detail=$(target_api detail "$host" | head -c 160)"
  expect_one_of "$host failing reason" "${reason:-none}" "$@"
  if [[ "$1" != none ]]; then
    expect_eq "$host probe_success" 0 "$(metric probe_success hostname="$host")"
    expect_num "$host probe_failures_total{reason=${reason:-?}}" \
      "$(metric probe_failures_total hostname="$host" reason="${reason:-?}")" ">=" 1
  fi
}

# run_phase NAME SECONDS SERVICE_YAML...: run the agent on the control target plus the given
# services, watch it for SECONDS, then read /metrics, /api/v1/targets and the status page (in
# that order: a crash while rendering one must not hide the others). Leaves the agent running.
run_phase() {
  local name="$1" secs="$2" code rc
  shift 2
  agent_yaml "$@" >"$EP_TMP/$name.yaml"
  check_config_ok "$EP_TMP/$name.yaml"
  step "phase $name: envprobe run, control every 1s beside the hostile targets; watching ${secs}s"
  agent_start "$EP_TMP/$name.yaml" "envprobe-$name"
  watch_agent "$secs" control.test control
  expect_agent_healthy "$secs"
  echo "   VmHWM (peak RSS) $((WATCH_HWM_KB / 1024)) MiB"
  scrape
  rc=0
  "$EP_PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$EP_TMP/metrics.txt" || rc=$?
  expect_eq "$name: /metrics is valid UTF-8" 0 "$rc"
  if command -v promtool >/dev/null; then
    rc=0
    promtool check metrics <"$EP_TMP/metrics.txt" >"$EP_TMP/promtool.log" 2>&1 || rc=$?
    expect_eq "$name: promtool check metrics exit code" 0 "$rc"
  fi
  targets_json
  expect_eq "$name: GET /api/v1/targets status" 200 "$TARGETS_CODE"
  expect_eq "$name: GET /api/v1/targets is a JSON array of objects" yes "$TARGETS_VALID"
  code=$(curl -s --max-time 5 -o "$EP_TMP/status.html" -w '%{http_code}' "$AGENT_WEB/" || true)
  expect_eq "$name: GET / (status page) status" 200 "$code"
  code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "$AGENT_WEB/-/healthy" || true)
  expect_eq "$name: GET /-/healthy after reading the pages" 200 "$code"
}

# end_phase NAME: stop the agent with SIGTERM; it must exit 0 within 10 s (a crash shows here).
end_phase() {
  stop_agent TERM 10
  expect_eq "$1: exit code on SIGTERM (within 10s)" 0 "$EXIT_CODE"
  echo "   $1: agent exit code $EXIT_CODE after ${STOP_SECONDS}s"
  [[ "$EXIT_CODE" != 134 ]] || echo "   (134 = SIGABRT: it had crashed; see its log below)"
  grep -E 'terminate|what\(\)|Segmentation|Abort' "$EP_TMP/envprobe-$1.log" | sed 's/^/   log: /' || true
}

run_phase bytes 8 \
  "$(service bin-status /bin-status)" \
  "$(service bin-headers /bin-headers)" \
  "$(service bad-utf8 /bad-utf8 3s 2s "" "" ', headers: { X-Bin: "abc" }')" \
  "$(service bin-body /bin-body 3s 2s "" "" ', body_contains: ["welcome"]')"
expect_reason bin-status.test error
expect_reason bin-headers.test error
expect_reason bad-utf8.test header
expect_reason bin-body.test body
end_phase bytes

run_phase limits "$WATCH" \
  "$(service slowloris /slowloris)" \
  "$(service endless /endless)" \
  "$(service bigheader /bigheader)" \
  "$(service manyheaders /manyheaders)" \
  "$(service rst /rst)" \
  "$(service gzip-bomb /gzip-bomb 3s 2s "" 'headers: { Accept-Encoding: gzip }')" \
  "$(service bigjson /bigjson 8s 8s 64MiB "" ', json: { status: ok }')" \
  "$(service deepjson /deepjson 3s 2s 1MiB "" ', json: { status: ok }')"
expect_reason slowloris.test timeout
d=$(target_api duration_seconds slowloris.test)
expect_num "slowloris.test duration (the 2s timeout)" "$d" ">=" 1.8
expect_num "slowloris.test duration (the 2s timeout)" "$d" "<" 3.5
expect_reason endless.test body_too_large
expect_num "endless.test duration" "$(target_api duration_seconds endless.test)" "<" 1.5
expect_reason bigheader.test error
expect_eq "bigheader.test detail says the header is too large" yes \
  "$(target_api detail bigheader.test | grep -qiE 'header.*(large|long|size|limit)' && echo yes || echo no)"
expect_num "bigheader.test duration" "$(target_api duration_seconds bigheader.test)" "<" 1.5
expect_reason manyheaders.test none error
expect_num "manyheaders.test duration" "$(target_api duration_seconds manyheaders.test)" "<" 1.5
expect_reason rst.test error connect
expect_reason gzip-bomb.test body_too_large
expect_num "gzip-bomb.test duration" "$(target_api duration_seconds gzip-bomb.test)" "<" 1.5
expect_reason bigjson.test json
expect_reason deepjson.test json
end_phase limits

# A phase of its own: a regex that stalls the event loop must not hide the results above.
if [[ "$REGEX_LOADED" == yes ]]; then
  run_phase regex 8 "$regex_service"
  expect_reason regex.test body
  end_phase regex
fi
echo "   regex pattern a.{1000}b loaded: $REGEX_LOADED"

finish "hostile targets (hostile_targets)"
