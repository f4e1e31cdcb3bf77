#!/usr/bin/env bash
# ctest-labels: hostile
# Redirects from targets pinned to a backend (127.0.0.1:A) whose names resolve only through the
# agent's own resolver (hostile_dns.py with A records; the system resolver knows none of them):
#   port-hop   -> http://port-hop...:B/ok     the next hop resolves through dns.servers: success
#   tls-hop    -> https://tls-hop...:T/ok     the same, over TLS (CA made by openssl): success
#   loop       -> itself                      reason redirects, probe_http_redirects = max (3)
#   ftp        -> ftp://127.0.0.1:F/file      reason redirects; never followed (F sees nothing)
#   cross      -> http://127.0.0.1:B/seen     X-Api-Key is not sent to the other origin
#   same       -> /seen                       X-Api-Key is kept on the same origin
#   chain      /chain/3 -> ... -> /chain/0    success, probe_http_redirects = 3
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$EP_LIB_DIR/hostile_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"

WATCH=6
zone=redirect.test
names=(port-hop tls-hop loop ftp cross same chain control)

step "a certificate for tls-hop.$zone (openssl)"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tls-hop.$zone" \
  -addext "subjectAltName=DNS:tls-hop.$zone" -keyout "$EP_TMP/tls.key" -out "$EP_TMP/tls.crt" \
  >"$EP_TMP/openssl.out" 2>&1 || { cat "$EP_TMP/openssl.out" >&2; die "openssl failed"; }

hostile_start a
port_a=$HS_PORT
hostile_start b
port_b=$HS_PORT
hostile_start tls --tls-cert "$EP_TMP/tls.crt" --tls-key "$EP_TMP/tls.key"
port_t=$HS_PORT
hostile_start ftp --mode hang
port_f=$HS_PORT
dns_port=$(free_port)
records=()
for n in "${names[@]}"; do records+=(--record "$n.$zone=127.0.0.1"); done
hostile_dns_start dns "$dns_port" --mode byname "${records[@]}"
step "backend A $port_a, B $port_b, TLS $port_t, ftp listener $port_f, resolver $dns_port"

step "fixture: names resolve through the agent's resolver only"
[[ "$(dns_query "$dns_port" "port-hop.$zone")" == "NOERROR 127.0.0.1" ]] ||
  die "fixture: the resolver does not answer port-hop.$zone"
pass "fixture: port-hop.$zone -> 127.0.0.1 at 127.0.0.1:$dns_port"
if getent hosts "port-hop.$zone" >/dev/null 2>&1; then
  die "fixture: the system resolver knows port-hop.$zone; the test could not tell the resolvers apart"
fi
pass "fixture: the system resolver does not know port-hop.$zone"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$EP_TMP/tls.crt" \
  --resolve "tls-hop.$zone:$port_t:127.0.0.1" "https://tls-hop.$zone:$port_t/ok")
[[ "$code" == 200 ]] || die "fixture: the TLS server answered $code, expected 200"
pass "fixture: TLS server verifies with the test CA"
for s in a b tls; do : >"$EP_TMP/$s.requests"; done

urlenc() { "$EP_PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# service NAME PATH [HTTP_EXTRA [EXPECT_EXTRA]]: pinned to backend A, every 2 s.
service() {
  cat <<EOF
  - name: $1
    hostnames: { internal: [$1.$zone], public: [] }
    backends: { at: ["127.0.0.1:$port_a"] }
    checks:
      - name: home
        interval: ${5:-2s}
        timeout: ${6:-2s}
        http:
          scheme: http
          port: $port_a
          path: "$2"
          max_redirects: 3
          tls: { ca_file: "$EP_TMP/tls.crt" }
          ${3:-}
          expect: { status: [200] ${4:-} }
EOF
}
config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
dns: { servers: ["127.0.0.1:$dns_port"] }
environments: { at: { tier: nonprod } }
services:
$(service control /ok "" "" 1s 1s)
$(service port-hop "/redirect?to=$(urlenc "http://port-hop.$zone:$port_b/ok")")
$(service tls-hop "/redirect?to=$(urlenc "https://tls-hop.$zone:$port_t/ok")")
$(service loop /loop)
$(service ftp "/redirect?to=$(urlenc "ftp://127.0.0.1:$port_f/file")")
$(service cross "/redirect?to=$(urlenc "http://127.0.0.1:$port_b/seen")" 'headers: { X-Api-Key: secret-cross }')
$(service same "/redirect?to=$(urlenc /seen)" 'headers: { X-Api-Key: secret-same }')
$(service chain /chain/3)
EOF
check_config_ok "$config"

step "envprobe run; watching ${WATCH}s"
# The readiness probe of the ftp listener is logged asynchronously: count from here on.
ftp_before=$(grep -c 'connection from' "$EP_TMP/ftp.log" || true)
agent_start "$config"
watch_agent "$WATCH" "control.$zone" a
# The control target shares server A with the others here, so its probes are counted from the
# staleness of its last-run timestamp only.
expect_eq "agent alive through the watch" yes "$WATCH_ALIVE"
expect_num "control staleness, max seconds since its last probe" "$WATCH_STALE" "<=" 3
expect_num "agent VmRSS max (KiB)" "$WATCH_RSS_KB" "<" "$RSS_LIMIT_KB"
scrape
targets_json
expect_eq "GET /api/v1/targets is a JSON array of objects" yes "$TARGETS_VALID"

show() {
  local h="$1.$zone"
  echo "   $h: success=$(metric probe_success hostname="$h") reason=$(target_api reason "$h")" \
    "status=$(target_api status_code "$h") redirects=$(metric probe_http_redirects hostname="$h")" \
    "ssl=$(metric probe_http_ssl hostname="$h") detail=$(target_api detail "$h" | head -c 160)"
}
# requests_to SERVER PATH_PREFIX HOST_PREFIX: requests SERVER logged for that path and Host.
requests_to() {
  "$EP_PY" - "$EP_TMP/$1.requests" "$2" "$3" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    n += r["path"].startswith(sys.argv[2]) and r["host"].startswith(sys.argv[3])
print(n)
PY
}
# key_values SERVER PATH: the X-Api-Key values SERVER received on PATH ("-" for none), sorted, unique.
key_values() {
  "$EP_PY" - "$EP_TMP/$1.requests" "$2" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] == sys.argv[2]:
        seen.add(next((v for k, v in r["headers"] if k.lower() == "x-api-key"), "-"))
print(" ".join(sorted(seen)) or "<no requests>")
PY
}

step "a redirect to another port of the pinned name resolves through the agent's resolver"
show port-hop
expect_eq "port-hop success" 1 "$(metric probe_success hostname=port-hop.$zone)"
expect_eq "port-hop probe_http_redirects" 1 "$(metric probe_http_redirects hostname=port-hop.$zone)"
expect_num "requests for /ok with Host port-hop.$zone at B" \
  "$(requests_to b /ok "port-hop.$zone")" ">=" 1

step "a redirect to https:// of the pinned name resolves through the agent's resolver"
show tls-hop
expect_eq "tls-hop success" 1 "$(metric probe_success hostname=tls-hop.$zone)"
expect_eq "tls-hop probe_http_ssl" 1 "$(metric probe_http_ssl hostname=tls-hop.$zone)"
expect_num "requests for /ok with Host tls-hop.$zone at the TLS server" \
  "$(requests_to tls /ok "tls-hop.$zone")" ">=" 1

step "a redirect loop stops at max_redirects"
show loop
expect_eq "loop reason" redirects "$(target_api reason loop.$zone)"
expect_eq "loop probe_failures_total{reason=redirects} > 0" yes \
  "$("$EP_PY" -c 'import sys; print("yes" if sys.argv[1][:1].isdigit() and float(sys.argv[1]) > 0 else "no")' \
    "$(metric probe_failures_total hostname=loop.$zone reason=redirects)")"
expect_eq "loop probe_http_redirects" 3 "$(metric probe_http_redirects hostname=loop.$zone)"

step "a redirect to ftp:// fails and is never followed"
show ftp
expect_eq "ftp success" 0 "$(metric probe_success hostname=ftp.$zone)"
expect_eq "ftp reason" redirects "$(target_api reason ftp.$zone)"
expect_eq "connections at the ftp listener" 0 \
  "$(( $(grep -c 'connection from' "$EP_TMP/ftp.log" || true) - ftp_before ))"

step "custom headers stay with their origin"
show cross
show same
expect_eq "cross success" 1 "$(metric probe_success hostname=cross.$zone)"
expect_eq "X-Api-Key values B received on /seen (other origin)" "-" "$(key_values b /seen)"
expect_eq "same success" 1 "$(metric probe_success hostname=same.$zone)"
expect_eq "X-Api-Key values A received on /seen (same origin)" secret-same "$(key_values a /seen)"

step "probe_http_redirects counts hops on success"
show chain
expect_eq "chain success" 1 "$(metric probe_success hostname=chain.$zone)"
expect_eq "chain probe_http_redirects" 3 "$(metric probe_http_redirects hostname=chain.$zone)"

stop_agent TERM 10
expect_eq "exit code on SIGTERM (within 10s)" 0 "$EXIT_CODE"

finish "redirects from pinned targets (hostile_redirects)"
