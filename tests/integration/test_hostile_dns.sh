#!/usr/bin/env bash
# ctest-labels: hostile
# Hostile resolvers: the agent's dns.servers is a resolver that answers SERVFAIL, REFUSED, or
# nothing at all, by name. Each target fails with its own reason (dns_servfail, dns_refused,
# dns_timeout); the silent one is bounded by the check's 1 s timeout, not by the resolver's
# retries; and a pinned control target probed every 1 s beside them stays on time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$EP_LIB_DIR/hostile_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

WATCH=12
hostile_start control --mode ok
control_port=$HS_PORT
dns_port=$(free_port)
hostile_dns_start dns "$dns_port" --mode byname
step "control server on 127.0.0.1:$control_port, hostile resolver on 127.0.0.1:$dns_port (udp)"

step "fixture: the resolver answers by name"
expect_fixture() {
  [[ "$2" == "$3" ]] || die "fixture: $1: expected '$2', saw '$3'"
  pass "fixture: $1 = $3"
}
expect_fixture servfail.dns.test SERVFAIL "$(dns_query "$dns_port" servfail.dns.test)"
expect_fixture refused.dns.test REFUSED "$(dns_query "$dns_port" refused.dns.test)"
expect_fixture other.dns.test NXDOMAIN "$(dns_query "$dns_port" other.dns.test)"
rc=0
timeout 5 "$EP_PY" - "$dns_port" <<'PY' || rc=$?
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x06silent\x03dns\x04test\x00" + struct.pack(">HH", 1, 1)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
try:
    s.recvfrom(512)
except socket.timeout:
    sys.exit(0)
sys.exit("silent.dns.test was answered")
PY
expect_fixture "silent.dns.test unanswered after 1s" 0 "$rc"
: >"$EP_TMP/dns.log"

# target NAME TIMEOUT: an unpinned target resolved through the hostile resolver.
target() {
  cat <<EOF
  - name: ${1%%.*}
    hostnames: { internal: [$1], public: [] }
    checks:
      - name: home
        interval: 3s
        timeout: $2
        http: { scheme: http, port: $control_port, path: /ok, expect: { status: [200] } }
EOF
}
config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
dns: { servers: ["127.0.0.1:$dns_port"] }
environments: { at: { tier: nonprod } }
services:
  - name: control
    hostnames: { internal: [control.test], public: [] }
    backends: { at: ["127.0.0.1:$control_port"] }
    checks:
      - name: home
        interval: 1s
        timeout: 1s
        http: { scheme: http, port: $control_port, path: /ok, expect: { status: [200] } }
$(target servfail.dns.test 2s)
$(target refused.dns.test 2s)
$(target silent.dns.test 1s)
EOF
check_config_ok "$config"

step "envprobe run; watching ${WATCH}s"
agent_start "$config"
watch_agent "$WATCH" control.test control
expect_agent_healthy "$WATCH"
scrape
targets_json
expect_eq "GET /api/v1/targets is a JSON array of objects" yes "$TARGETS_VALID"

step "each target fails with its DNS reason"
# failing_reason HOST: the reason label of HOST's envprobe_probe_failure_reason that is 1.
failing_reason() {
  "$EP_PY" - "$EP_TMP/metrics.txt" "$1" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r'^envprobe_probe_failure_reason\{(.*)\}\s+1(\.0*)?$', line.strip())
    if m and f'hostname="{sys.argv[2]}"' in m.group(1):
        print(re.search(r'reason="([^"]*)"', m.group(1)).group(1))
PY
}
for pair in servfail.dns.test=dns_servfail refused.dns.test=dns_refused silent.dns.test=dns_timeout; do
  host=${pair%%=*}
  want=${pair#*=}
  reason=$(failing_reason "$host")
  echo "   $host: reason=${reason:-none} duration=$(target_api duration_seconds "$host")s" \
    "detail=$(target_api detail "$host" | head -c 160)"
  expect_eq "$host failing reason" "$want" "${reason:-none}"
  expect_eq "$host probe_success" 0 "$(metric probe_success hostname="$host")"
  expect_num "$host probe_failures_total{reason=$want}" \
    "$(metric probe_failures_total hostname="$host" reason="$want")" ">=" 1
  expect_num "$host queries seen by the resolver" \
    "$(grep -c "query [A-Z]* $host " "$EP_TMP/dns.log" || true)" ">=" 1
done
d=$(target_api duration_seconds silent.dns.test)
expect_num "silent.dns.test duration (bounded by the 1s check timeout)" "$d" "<" 2
expect_num "silent.dns.test probes in ${WATCH}s (interval 3s; each must end by its timeout)" \
  "$(metric probe_failures_total hostname=silent.dns.test reason=dns_timeout)" ">=" 3

stop_agent TERM 10
expect_eq "exit code on SIGTERM (within 10s)" 0 "$EXIT_CODE"
echo "   stopped in ${STOP_SECONDS}s"

finish "hostile resolvers (hostile_dns)"
