#!/usr/bin/env bash
# ctest-labels: hostile
# Untrusted bytes are data: a target that answers with invalid UTF-8 (a Latin-1 Server header, a
# status line ending in \xff, a NUL byte in a header, a body of broken sequences) must not stop
# the agent or break any of its outputs. With a check whose failure detail quotes that Server
# header, and alerts pushed to a stand-in Alertmanager that parses bodies as strict UTF-8 JSON:
#   - GET /api/v1/targets is valid JSON, the status page answers 200;
#   - every pushed alert batch is valid UTF-8 JSON, and the failing check's alert arrives;
#   - a second Alertmanager refuses (400, with invalid UTF-8 and a line break in its answer) any
#     batch holding that alert: only it is dropped (counted, logged), the other alerts arrive;
#   - every line of `--log.format=json --log.level=debug` is valid JSON;
#   - `envprobe once --format=json` exits 1 (checks failed), not with an abort, and prints JSON;
#   - `--log.format=logfmt` lines each start with ts= (nothing injected a line);
#   - the agent is still running at the end and stops cleanly on SIGTERM.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

step "hostile target on a loopback port (raw socket server)"
alerts="$EP_TMP/alerts.txt"
: >"$alerts"
start_bg target "$EP_PY" "$EP_LIB_DIR/untrusted_server.py" --port-file "$EP_TMP/target.port" \
  --alerts-file "$alerts" --max-seconds "$EP_MAX_LIFETIME"
target_pid=$BG_PID
for _ in $(seq 100); do [[ -s "$EP_TMP/target.port" ]] && break; sleep 0.1; done
[[ -s "$EP_TMP/target.port" ]] || die "untrusted_server.py wrote no port: $(cat "$EP_TMP/target.log")"
port=$(cat "$EP_TMP/target.port")
wait_tcp target "$target_pid" 127.0.0.1 "$port"
curl -s -D "$EP_TMP/fixture.head" -o /dev/null "http://127.0.0.1:$port/cafe" || true
grep -q $'Server: caf\xe9/1.0' "$EP_TMP/fixture.head" ||
  die "fixture: /cafe did not send the Latin-1 Server header: $(od -c "$EP_TMP/fixture.head" | head)"
pass "fixture: /cafe sends 'Server: caf\\xe9/1.0'"

step "a stand-in Alertmanager that refuses any batch holding an alert of the server check"
refusing="$EP_TMP/refusing.txt"
: >"$refusing"
start_bg refusing_am "$EP_PY" "$EP_LIB_DIR/untrusted_server.py" --port-file "$EP_TMP/refusing.port" \
  --alerts-file "$refusing" --refuse-label check=server --max-seconds "$EP_MAX_LIFETIME"
refusing_pid=$BG_PID
for _ in $(seq 100); do [[ -s "$EP_TMP/refusing.port" ]] && break; sleep 0.1; done
[[ -s "$EP_TMP/refusing.port" ]] || die "untrusted_server.py wrote no port: $(cat "$EP_TMP/refusing_am.log")"
refusing_port=$(cat "$EP_TMP/refusing.port")
wait_tcp refusing_am "$refusing_pid" 127.0.0.1 "$refusing_port"

web_port=$(free_port)
config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod }, prod: { tier: prod } }
alerting:
  alertmanagers: ["http://127.0.0.1:$port", "http://127.0.0.1:$refusing_port"]
  failure_threshold: 1
  success_threshold: 1
  resend_interval: 2s
services:
  - name: cafe
    hostnames:
      internal: ["cafe.{env}.test"]
      public: { at: [], prod: [] }
    backends: { at: ["127.0.0.1:$port"] }
    checks:
      - name: server
        http: { scheme: http, port: $port, path: /cafe, expect: { headers: { Server: "nginx.*" } } }
      - name: body
        http: { scheme: http, port: $port, path: /cafe, expect: { body_contains: ["welcome"] } }
      - name: nul
        http: { scheme: http, port: $port, path: /nul, expect: { headers: { X-Nul: "nothing" } } }
EOF
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.out" 2>&1 ||
  { cat "$EP_TMP/check-config.out" >&2; die "envprobe check-config rejected the test config"; }

# all_json_lines FILE: exit 0 if every non-empty line of FILE is strict UTF-8 JSON; else print
# the first bad line's number and bytes.
all_json_lines() {
  "$EP_PY" - "$1" <<'PY'
import json, sys
for n, raw in enumerate(open(sys.argv[1], "rb"), 1):
    if not raw.strip():
        continue
    try:
        json.loads(raw.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError) as e:
        print(f"line {n}: {e}: {raw[:300]!r}")
        sys.exit(1)
PY
}

step "envprobe --log.format=json --log.level=debug run (interval 1s)"
start_bg_direct envprobe "$ENVPROBE" run --config.file="$config" \
  --web.listen-address="127.0.0.1:$web_port" --log.format=json --log.level=debug
agent=$BG_PID
wait_tcp envprobe "$agent" 127.0.0.1 "$web_port" 15

step "GET /api/v1/targets is valid JSON once every check has a result"
targets="$EP_TMP/targets.json"
deadline=$((SECONDS + 20))
seen=""
while :; do
  kill -0 "$agent" 2>/dev/null || { fail "envprobe run died: $(tail -n 5 "$EP_TMP/envprobe.log")"; break; }
  code=$(curl -s --max-time 3 -o "$targets" -w '%{http_code}' "http://127.0.0.1:$web_port/api/v1/targets" || true)
  if [[ "$code" == 200 ]] && seen=$(jq_py 'sorted(t["check"] for t in d if t.get("last_probe_unix"))' "$targets" 2>/dev/null) &&
    [[ "$seen" == '["body", "nul", "server"]' ]]; then
    break
  fi
  if ((SECONDS >= deadline)); then
    fail "/api/v1/targets: no valid JSON with a result for each check within 20s (HTTP $code; checks seen: ${seen:-none}; body: $(head -c 300 "$targets" 2>/dev/null))"
    break
  fi
  sleep 0.3
done
if [[ "$seen" == '["body", "nul", "server"]' ]]; then
  pass "/api/v1/targets: valid JSON with results for body, nul and server"
  "$EP_PY" -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$targets" &&
    pass "/api/v1/targets is strict UTF-8" || fail "/api/v1/targets is not strict UTF-8"
  expect_eq "server check success" false "$(jq_py '[t for t in d if t["check"] == "server"][0]["success"]' "$targets")"
  echo "   server check: $(jq_py '[t for t in d if t["check"] == "server"][0]["detail"]' "$targets")"
fi

step "the status page answers 200"
code=$(curl -s --max-time 3 -o "$EP_TMP/status.html" -w '%{http_code}' "http://127.0.0.1:$web_port/" || true)
expect_eq "GET / status" 200 "$code"

step "alert pushes reach the stand-in Alertmanager as valid UTF-8 JSON"
deadline=$((SECONDS + 15))
until grep -q '"check": "server"' "$alerts" 2>/dev/null || ((SECONDS >= deadline)); do sleep 0.3; done
if grep -q '"check": "server"' "$alerts"; then
  pass "an alert for the server check arrived"
else
  fail "no alert for the server check within 15s; pushes seen: $(head -c 500 "$alerts")"
fi
expect_eq "alert pushes that were not valid UTF-8 JSON" 0 "$(grep -c '^invalid' "$alerts" || true)"
grep '^invalid' "$alerts" | head -3 | sed 's/^/   /' || true

step "the refusing Alertmanager: only the server check's alert is dropped, the others arrive"
has_refused_and_nul() {
  grep -q '^refused' "$refusing" && grep '^ok' "$refusing" | grep -q '"check": "nul"' &&
    grep -q 'alertmanager refused an alert, dropped' "$EP_TMP/envprobe.log"
}
deadline=$((SECONDS + 15))
until has_refused_and_nul || ((SECONDS >= deadline)); do sleep 0.3; done
if has_refused_and_nul; then
  pass "a batch was refused, the nul check's alert still arrived, the drop was logged"
else
  fail "within 15s: refused=$(grep -c '^refused' "$refusing" || true) nul alert delivered=$(grep '^ok' "$refusing" | grep -c '"check": "nul"' || true) drop logged=$(grep -c 'refused an alert, dropped' "$EP_TMP/envprobe.log" || true)"
fi
expect_eq "server-check alerts accepted by the refusing Alertmanager" 0 \
  "$(grep '^ok' "$refusing" | grep -c '"check": "server"' || true)"
grep 'refused an alert' "$EP_TMP/envprobe.log" | head -1 | sed 's/^/   /'
curl -sf --max-time 3 -o "$EP_TMP/metrics.txt" "http://127.0.0.1:$web_port/metrics" || fail "GET /metrics failed"
expect_num "envprobe_alerts_sent_total{result=dropped} for the refusing Alertmanager" \
  "$(metric_values "$EP_TMP/metrics.txt" envprobe_alerts_sent_total \
    alertmanager="http://127.0.0.1:$refusing_port" result=dropped | head -1)" ">=" 1

step "envprobe once --format=json: exit 1 (checks failed), valid JSON"
once_rc=0
timeout -k 5 50 "$ENVPROBE" --log.level=debug once --config.file="$config" --format=json \
  >"$EP_TMP/once.json" 2>"$EP_TMP/once.err" || once_rc=$?
expect_eq "envprobe once exit code" 1 "$once_rc"
if "$EP_PY" -c 'import json, sys; d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); sys.exit(0 if len(d) == 3 else 1)' \
  "$EP_TMP/once.json" 2>"$EP_TMP/once-parse.err"; then
  pass "envprobe once printed strict UTF-8 JSON with 3 results"
else
  fail "envprobe once output is not JSON with 3 results: $(head -c 300 "$EP_TMP/once.json"; cat "$EP_TMP/once-parse.err")"
fi
bad=$(grep -cv '^ts=' "$EP_TMP/once.err" || true)
expect_eq "logfmt lines of envprobe once that do not start with ts=" 0 "$bad"

step "every line of the agent's JSON log is valid JSON"
if out=$(all_json_lines "$EP_TMP/envprobe.log"); then
  pass "$(grep -c . "$EP_TMP/envprobe.log") JSON log lines, all valid"
else
  fail "JSON log: $out"
fi
grep -q '"probe failed"' "$EP_TMP/envprobe.log" && pass "the log has the debug 'probe failed' lines" ||
  fail "no 'probe failed' debug line in the JSON log"

step "the agent is still running, and SIGTERM stops it cleanly"
if kill -0 "$agent" 2>/dev/null; then
  pass "envprobe run is still running"
  kill -TERM "$agent"
  wait_exit "$agent" 5
  expect_eq "envprobe run exit code after SIGTERM" 0 "$EXIT_CODE"
else
  wait_exit "$agent" 1
  fail "envprobe run is not running any more (exit code $EXIT_CODE)"
fi

finish "untrusted bytes (untrusted_bytes)"
