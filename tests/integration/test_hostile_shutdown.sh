#!/usr/bin/env bash
# ctest-labels: hostile
# SIGTERM and SIGINT stop the agent cleanly (exit 0, within 10 s) while work is in flight: DNS
# queries to a resolver that never answers, HTTP transfers from a server that sends one byte
# every 0.5 s, and alert pushes to an "Alertmanager" that accepts connections and never answers.
# Three runs per signal. `envprobe demo` also exits 0 on SIGINT and SIGTERM.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$EP_LIB_DIR/hostile_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

STOP_BOUND=10
hostile_start slow --mode slowbody
slow_port=$HS_PORT
hostile_start blackhole --mode hang
am_port=$HS_PORT
dns_port=$(free_port)
hostile_dns_start dns "$dns_port" --mode silent
closed_port=$(free_port) # nothing listens here: those probes fail at once and raise alerts
step "slow body on $slow_port, silent Alertmanager on $am_port, silent resolver on $dns_port, closed port $closed_port"

config="$EP_TMP/agent.yaml"
{
  cat <<EOF
environment: at
dns: { servers: ["127.0.0.1:$dns_port"], timeout: 2s, tries: 3 }
environments: { at: { tier: nonprod } }
alerting:
  alertmanagers: ["http://127.0.0.1:$am_port"]
  failure_threshold: 1
services:
EOF
  for i in $(seq 20); do
    cat <<EOF
  - name: silent-$i
    hostnames: { internal: [silent-$i.dns.test], public: [] }
    checks:
      - { name: home, interval: 10s, timeout: 8s, http: { scheme: http, port: 80, path: / } }
EOF
  done
  for i in $(seq 10); do
    cat <<EOF
  - name: slow-$i
    hostnames: { internal: [slow-$i.test], public: [] }
    backends: { at: ["127.0.0.1:$slow_port"] }
    checks:
      - { name: home, interval: 10s, timeout: 8s, http: { scheme: http, port: $slow_port, path: / } }
EOF
  done
  for i in $(seq 5); do
    cat <<EOF
  - name: closed-$i
    hostnames: { internal: [closed-$i.test], public: [] }
    backends: { at: ["127.0.0.1:$closed_port"] }
    checks:
      - { name: home, interval: 1s, timeout: 1s, http: { scheme: http, port: $closed_port, path: / } }
EOF
  done
} >"$config"
check_config_ok "$config"

# in_flight: true once the resolver, the slow server and the silent Alertmanager have all been
# contacted since the logs were emptied.
in_flight() {
  grep -q 'query ' "$EP_TMP/dns.log" && (($(requests_seen slow) > 0)) && (($(requests_seen blackhole) > 0))
}

run=0
for sig in TERM TERM TERM INT INT INT; do
  run=$((run + 1))
  : >"$EP_TMP/dns.log"
  : >"$EP_TMP/slow.requests"
  : >"$EP_TMP/blackhole.requests"
  step "run $run: envprobe run, then SIG$sig while work is in flight"
  agent_start "$config" "envprobe-$run"
  deadline=$((SECONDS + 8))
  until in_flight || ((SECONDS >= deadline)); do sleep 0.2; done
  sleep 0.5
  scrape
  inflight=$(metric envprobe_inflight_probes)
  echo "   at the signal: dns queries=$(grep -c 'query ' "$EP_TMP/dns.log" || true)" \
    "slow transfers=$(requests_seen slow) alert pushes=$(requests_seen blackhole)" \
    "envprobe_inflight_probes=$inflight"
  expect_eq "run $run: DNS, HTTP and alert delivery all in flight at the signal" yes \
    "$(in_flight && echo yes || echo no)"
  expect_num "run $run: envprobe_inflight_probes at the signal" "$inflight" ">" 0
  stop_agent "$sig" "$STOP_BOUND"
  expect_eq "run $run: exit code after SIG$sig (within ${STOP_BOUND}s)" 0 "$EXIT_CODE"
  echo "   run $run: exit $EXIT_CODE after ${STOP_SECONDS}s"
  grep -E 'terminate|what\(\)|Segmentation|Abort' "$EP_TMP/envprobe-$run.log" | sed 's/^/   log: /' || true
done

for sig in INT TERM; do
  step "envprobe demo, then SIG$sig"
  web_port=$(free_port)
  start_bg_direct "demo-$sig" "$ENVPROBE" demo --web.listen-address="127.0.0.1:$web_port"
  AGENT_PID=$BG_PID
  deadline=$((SECONDS + 15))
  until curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$web_port/-/healthy"; do
    kill -0 "$AGENT_PID" 2>/dev/null || die "envprobe demo exited early: $(tail -n 20 "$EP_TMP/demo-$sig.log")"
    ((SECONDS < deadline)) || die "envprobe demo not healthy on 127.0.0.1:$web_port after 15 s"
    sleep 0.1
  done
  sleep 1.5 # let a probe round run
  stop_agent "$sig" "$STOP_BOUND"
  expect_eq "demo: exit code after SIG$sig (within ${STOP_BOUND}s)" 0 "$EXIT_CODE"
  echo "   demo: exit $EXIT_CODE after ${STOP_SECONDS}s"
done

finish "shutdown with work in flight (hostile_shutdown)"
