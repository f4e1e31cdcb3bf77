#!/usr/bin/env bash
# ctest-labels: hostile
# The daemon's /metrics: with nginx as in the forgotten-hostname test and a 1 s interval,
# `envprobe run` exposes probe_success 1 for the internal name and 0 for the public one,
# status 400 and an http_status failure count for the public one, its own envprobe_* health,
# the six process_* series of every exporter; the text passes `promtool check metrics`;
# SIGTERM stops the agent with exit code 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd promtool "Debian package prometheus"
require_cmd "$NGINX" "Debian package nginx-light"

port=$(free_port)
web_port=$(free_port)
internal=shop.at.test
public=shop-at.example.test

step "nginx on 127.0.0.1:$port: $internal -> 200, anything else -> 400"
nginx_start nginx "
  server {
    listen 127.0.0.1:$port default_server;
    server_name _;
    return 400 \"Invalid Hostname\n\";
  }
  server {
    listen 127.0.0.1:$port;
    server_name $internal;
    location / { return 200 \"welcome to the shop\n\"; }
  }" "$port"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $internal" "http://127.0.0.1:$port/")
[[ "$code" == 200 ]] || die "fixture: nginx answered $code for Host $internal, expected 200"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $public" "http://127.0.0.1:$port/")
[[ "$code" == 400 ]] || die "fixture: nginx answered $code for Host $public, expected 400"
pass "fixture: nginx: $internal -> 200, $public -> 400"

config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: shop
    hostnames:
      internal: ["shop.{env}.test"]
      public: { at: [$public], prod: [] }
    backends: { at: ["127.0.0.1:$port"] }
    checks:
      - name: home
        http:
          scheme: http
          port: $port
          path: /
          expect: { status: [200-299], body_contains: ["welcome"] }
EOF
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

step "envprobe run --web.listen-address=127.0.0.1:$web_port (interval 1s)"
start_bg_direct envprobe "$ENVPROBE" run --config.file="$config" --web.listen-address="127.0.0.1:$web_port"
agent=$BG_PID

scrape="$EP_TMP/metrics.txt"
# Poll /metrics until probe_success has a series for each hostname.
deadline=$((SECONDS + 15))
while :; do
  kill -0 "$agent" 2>/dev/null || die "envprobe run exited early: $(tail -n 20 "$EP_TMP/envprobe.log")"
  if curl -sf --max-time 2 -o "$scrape" "http://127.0.0.1:$web_port/metrics" &&
    [[ -n "$(metric_values "$scrape" probe_success hostname=$internal)" &&
      -n "$(metric_values "$scrape" probe_success hostname=$public)" ]]; then
    break
  fi
  ((SECONDS < deadline)) ||
    die "no probe_success series for both $internal and $public within 15s; last scrape: $(grep '^probe_success' "$scrape" 2>/dev/null || echo '<none>')"
  sleep 0.3
done
pass "probe_success series for both hostnames after $((SECONDS - deadline + 15))s"
grep -E '^(probe_|envprobe_|process_)' "$scrape" | grep -v '_bucket{' | sed 's/^/   /'

# one_value NAME LABEL=VALUE...: the value of the one matching sample, or a "<...>" note.
one_value() {
  local values n
  values=$(metric_values "$scrape" "$@")
  n=$(grep -c . <<<"$values" || true)
  if [[ "$n" == 1 ]]; then echo "$values"; else echo "<$n series of $*>"; fi
}

step "probe results per hostname"
common=(env=at service=shop check=home)
expect_eq "probe_success{hostname=$internal,visibility=internal}" 1 \
  "$(one_value probe_success "${common[@]}" hostname=$internal visibility=internal)"
expect_eq "probe_success{hostname=$public,visibility=public}" 0 \
  "$(one_value probe_success "${common[@]}" hostname=$public visibility=public)"
expect_eq "probe_http_status_code{hostname=$internal}" 200 \
  "$(one_value probe_http_status_code "${common[@]}" hostname=$internal)"
expect_eq "probe_http_status_code{hostname=$public}" 400 \
  "$(one_value probe_http_status_code "${common[@]}" hostname=$public)"
for h in $internal $public; do
  expect_num "probe_duration_seconds{hostname=$h}" "$(one_value probe_duration_seconds hostname="$h")" ">" 0
done
failures_before=$(one_value probe_failures_total "${common[@]}" hostname=$public reason=http_status)
expect_num "probe_failures_total{hostname=$public,reason=http_status}" "$failures_before" ">=" 1
n=$(metric_values "$scrape" envprobe_build_info | grep -c . || true)
expect_num "envprobe_build_info series" "$n" ">=" 1
n=$(metric_values "$scrape" envprobe_targets | grep -c . || true)
expect_num "envprobe_targets series" "$n" ">=" 1

step "process metrics, as every Prometheus exporter has them"
for name in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
  process_open_fds process_max_fds process_start_time_seconds; do
  grep -q "^# TYPE $name " "$scrape" || fail "no # TYPE line for $name"
done
expect_eq "process_cpu_seconds_total type" counter \
  "$(awk '$2 == "TYPE" && $3 == "process_cpu_seconds_total" { print $4 }' "$scrape")"
expect_num "process_cpu_seconds_total" "$(one_value process_cpu_seconds_total)" ">=" 0
expect_num "process_resident_memory_bytes" "$(one_value process_resident_memory_bytes)" ">" 1000000
expect_num "process_virtual_memory_bytes" "$(one_value process_virtual_memory_bytes)" ">" \
  "$(one_value process_resident_memory_bytes)"
expect_num "process_open_fds" "$(one_value process_open_fds)" ">=" 3
expect_num "process_max_fds" "$(one_value process_max_fds)" ">=" "$(one_value process_open_fds)"
started=$(one_value process_start_time_seconds)
expect_num "process_start_time_seconds (now $(date +%s))" "$started" ">" "$(($(date +%s) - 120))"
expect_num "process_start_time_seconds (now $(date +%s))" "$started" "<=" "$(($(date +%s) + 2))"

step "promtool check metrics"
rc=0
promtool check metrics <"$scrape" >"$EP_TMP/promtool.log" 2>&1 || rc=$?
sed 's/^/   /' "$EP_TMP/promtool.log"
expect_eq "promtool check metrics exit code" 0 "$rc"

step "probing goes on every second: the failure counter rises"
sleep 2.5
curl -sf --max-time 2 -o "$scrape" "http://127.0.0.1:$web_port/metrics" || fail "second scrape of /metrics failed"
failures_after=$(one_value probe_failures_total "${common[@]}" hostname=$public reason=http_status)
expect_num "probe_failures_total{hostname=$public,reason=http_status} 2.5s later (was $failures_before)" \
  "$failures_after" ">" "$failures_before"
expect_eq "probe_success{hostname=$internal} still" 1 \
  "$(one_value probe_success "${common[@]}" hostname=$internal)"

step "SIGTERM stops the agent with exit code 0"
kill -TERM "$agent"
wait_exit "$agent" 5
expect_eq "envprobe run exit code after SIGTERM (within 5s)" 0 "$EXIT_CODE"

finish "metrics endpoint (metrics)"
