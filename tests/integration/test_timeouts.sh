#!/usr/bin/env bash
# ctest-labels: hostile
# Misbehaving servers cost a probe its timeout or its body limit, nothing more: a server that
# accepts and never answers gives reason timeout after the 2 s timeout; servers that stream an
# endless body (chunked, and with a huge Content-Length) give body_too_large at the 64 KiB
# limit, quickly. A healthy nginx target in the same config still passes, and the agent hangs up
# on every misbehaving server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$NGINX" "Debian package nginx-light"

slow_server="$EP_LIB_DIR/slow_server.py"
declare -A port
for mode in hang endless huge; do
  start_bg "slow-$mode" "$EP_PY" "$slow_server" --mode "$mode" --port-file "$EP_TMP/slow-$mode.port" --max-seconds 90
  pid=$BG_PID
  for _ in $(seq 50); do [[ -s "$EP_TMP/slow-$mode.port" ]] && break; sleep 0.1; done
  [[ -s "$EP_TMP/slow-$mode.port" ]] || die "slow_server.py --mode $mode did not start: $(cat "$EP_TMP/slow-$mode.log")"
  port[$mode]=$(cat "$EP_TMP/slow-$mode.port")
  wait_tcp "slow-$mode" "$pid" 127.0.0.1 "${port[$mode]}"
done
port[nginx]=$(free_port)
step "slow_server.py: hang on ${port[hang]}, endless (chunked) on ${port[endless]}, huge (Content-Length) on ${port[huge]}; nginx on ${port[nginx]}"
nginx_start nginx "
  server {
    listen 127.0.0.1:${port[nginx]};
    server_name _;
    location / { return 200 \"welcome\n\"; }
  }" "${port[nginx]}"

step "fixture: the servers misbehave as intended (curl)"
rc=0
curl -sS -o /dev/null --max-time 1 "http://127.0.0.1:${port[hang]}/" 2>/dev/null || rc=$?
[[ "$rc" == 28 ]] || die "fixture: hang server: expected curl to time out (28), saw exit $rc"
pass "hang: curl timed out"
for mode in endless huge; do
  rc=0
  bytes=$(curl -sS --max-time 1 "http://127.0.0.1:${port[$mode]}/" 2>/dev/null | head -c 300000 | wc -c) || rc=$?
  [[ "$bytes" == 300000 ]] || die "fixture: $mode server: expected an endless body, read $bytes bytes"
  pass "$mode: body goes on past 300000 bytes"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[nginx]}/")
[[ "$code" == 200 ]] || die "fixture: nginx answered $code, expected 200"
pass "nginx: 200"
# Let each server log the end of its fixture connection, then start the logs afresh.
for mode in hang endless huge; do
  for _ in $(seq 50); do grep -q 'client left' "$EP_TMP/slow-$mode.log" && break; sleep 0.1; done
  grep -q 'client left' "$EP_TMP/slow-$mode.log" || die "fixture: $mode server did not notice curl leaving"
  : >"$EP_TMP/slow-$mode.log"
done

config="$EP_TMP/agent.yaml"
{
  cat <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 5s, timeout: 2s }
environments: { at: { tier: nonprod } }
services:
EOF
  for target in hang endless huge nginx; do
    cat <<EOF
  - name: $target
    hostnames:
      internal: [$target.test]
      public: []
    backends: { at: ["127.0.0.1:${port[$target]}"] }
    checks:
      - name: home
        http:
          scheme: http
          port: ${port[$target]}
          path: /
          body_limit: 64KiB
          expect: { status: [200] }
EOF
  done
} >"$config"

step "envprobe check-config"
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

step "envprobe once (timeout 2s, body_limit 64KiB)"
ep_once "$config"
expect_eq "exit code" 1 "$ONCE_RC"
expect_eq "number of results" 4 "$(jq_py 'len(d)' "$ONCE_JSON")"
expect_num "wall time of once (seconds)" "$ONCE_SECONDS" "<" 10

expect_eq "hang.test success" false "$(target_field success hostname=hang.test)"
expect_eq "hang.test reason" timeout "$(target_field reason hostname=hang.test)"
expect_eq "hang.test status_code" 0 "$(target_field status_code hostname=hang.test)"
d=$(target_field duration_seconds hostname=hang.test)
expect_num "hang.test duration_seconds (the 2s timeout)" "$d" ">=" 1.8
expect_num "hang.test duration_seconds (the 2s timeout)" "$d" "<" 4

for mode in endless huge; do
  h=$mode.test
  expect_eq "$h success" false "$(target_field success hostname=$h)"
  expect_eq "$h reason" body_too_large "$(target_field reason hostname=$h)"
  expect_eq "$h status_code" 200 "$(target_field status_code hostname=$h)"
  expect_num "$h duration_seconds (stops at the limit, not the timeout)" \
    "$(target_field duration_seconds hostname=$h)" "<" 1.5
done

expect_eq "nginx.test success" true "$(target_field success hostname=nginx.test)"
expect_eq "nginx.test reason" none "$(target_field reason hostname=nginx.test)"
expect_eq "nginx.test status_code" 200 "$(target_field status_code hostname=nginx.test)"
expect_num "nginx.test duration_seconds" "$(target_field duration_seconds hostname=nginx.test)" "<" 1

step "the agent hung up on every misbehaving server"
# The servers log when their client leaves; allow them a moment to notice.
for mode in hang endless huge; do
  for _ in $(seq 30); do grep -q 'client left' "$EP_TMP/slow-$mode.log" && break; sleep 0.1; done
  sed 's/^/   /' "$EP_TMP/slow-$mode.log"
  expect_eq "$mode server: connections the agent closed" 1 "$(grep -c 'client left' "$EP_TMP/slow-$mode.log" || true)"
done

finish "timeouts and body limits (timeouts)"
