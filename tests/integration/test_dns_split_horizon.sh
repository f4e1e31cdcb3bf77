#!/usr/bin/env bash
# ctest-labels: hostile
# Split-horizon DNS: two dnsmasq servers answer shop.at.test differently, 127.0.0.1 (the right
# nginx, 200) and 127.0.0.2 (a wrong nginx, 500 "wrong horizon"). The agent resolves with its
# own resolver against dns.servers, without backends: config A passes, config B fails with
# status 500 from 127.0.0.2, and a name that is not in the zone fails with dns_nxdomain.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$NGINX" "Debian package nginx-light"
require_cmd "$DNSMASQ" "Debian package dnsmasq-base"

name=shop.at.test
missing=nope.at.test
http_port=$(free_port)
dns_a=$(free_port)
dns_b=$(free_port)

step "nginx: 127.0.0.1:$http_port answers 200 'welcome', 127.0.0.2:$http_port answers 500"
nginx_start nginx "
  server {
    listen 127.0.0.1:$http_port;
    server_name _;
    location / { return 200 \"welcome from the right horizon\n\"; }
  }
  server {
    listen 127.0.0.2:$http_port;
    server_name _;
    location / { return 500 \"wrong horizon\n\"; }
  }" "$http_port"
wait_tcp nginx "$BG_PID" 127.0.0.2 "$http_port"

step "dnsmasq A on 127.0.0.1:$dns_a ($name -> 127.0.0.1), B on 127.0.0.1:$dns_b ($name -> 127.0.0.2)"
dnsmasq_start dnsmasq-a "$dns_a" "$name,127.0.0.1"
dnsmasq_start dnsmasq-b "$dns_b" "$name,127.0.0.2"

step "fixture: each dnsmasq answers its own address, NXDOMAIN for $missing; each nginx its own status"
expect_fixture() {
  [[ "$2" == "$3" ]] || die "fixture: $1: expected '$2', saw '$3'"
  pass "fixture: $1 = $3"
}
expect_fixture "A: $name" "NOERROR 127.0.0.1" "$(dns_query "$dns_a" "$name")"
expect_fixture "B: $name" "NOERROR 127.0.0.2" "$(dns_query "$dns_b" "$name")"
expect_fixture "A: $missing" "NXDOMAIN" "$(dns_query "$dns_a" "$missing")"
expect_fixture "B: $missing" "NXDOMAIN" "$(dns_query "$dns_b" "$missing")"
expect_fixture "http via 127.0.0.1" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --resolve "$name:$http_port:127.0.0.1" "http://$name:$http_port/")"
expect_fixture "http via 127.0.0.2" 500 \
  "$(curl -s -o /dev/null -w '%{http_code}' --resolve "$name:$http_port:127.0.0.2" "http://$name:$http_port/")"

# From here on, the logs show only what the agent did.
: >"$EP_TMP/nginx/access.log"
: >"$EP_TMP/dnsmasq-a.log"
: >"$EP_TMP/dnsmasq-b.log"

# agent_config FILE DNS_PORT INTERNAL_NAME
agent_config() {
  cat >"$1" <<EOF
environment: at
defaults: { interval: 5s, timeout: 2s }
dns: { servers: ["127.0.0.1:$2"] }
environments: { at: { tier: nonprod } }
services:
  - name: shop
    hostnames:
      internal: ["$3"]
      public: []
    checks:
      - name: home
        http:
          scheme: http
          port: $http_port
          path: /
          expect: { status: [200], body_contains: ["welcome"] }
EOF
  "$ENVPROBE" check-config "$1" >"$EP_TMP/check-config.log" 2>&1 ||
    { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected $1"; }
}

step "config A (dns.servers = dnsmasq A): $name resolves to 127.0.0.1 and passes"
agent_config "$EP_TMP/a.yaml" "$dns_a" "$name"
ep_once "$EP_TMP/a.yaml"
expect_eq "A: exit code" 0 "$ONCE_RC"
expect_eq "A: number of results" 1 "$(jq_py 'len(d)' "$ONCE_JSON")"
expect_eq "A: success" true "$(target_field success hostname=$name)"
expect_eq "A: reason" none "$(target_field reason hostname=$name)"
expect_eq "A: status_code" 200 "$(target_field status_code hostname=$name)"
expect_eq "A: address" 127.0.0.1 "$(target_field address hostname=$name)"

step "config B (dns.servers = dnsmasq B): $name resolves to 127.0.0.2, whose nginx answers 500"
agent_config "$EP_TMP/b.yaml" "$dns_b" "$name"
ep_once "$EP_TMP/b.yaml"
expect_eq "B: exit code" 1 "$ONCE_RC"
expect_eq "B: number of results" 1 "$(jq_py 'len(d)' "$ONCE_JSON")"
expect_eq "B: success" false "$(target_field success hostname=$name)"
expect_eq "B: reason" http_status "$(target_field reason hostname=$name)"
expect_eq "B: status_code" 500 "$(target_field status_code hostname=$name)"
expect_eq "B: address" 127.0.0.2 "$(target_field address hostname=$name)"

step "config C (dns.servers = dnsmasq A): $missing is not in the zone"
agent_config "$EP_TMP/c.yaml" "$dns_a" "$missing"
ep_once "$EP_TMP/c.yaml"
expect_eq "C: exit code" 1 "$ONCE_RC"
expect_eq "C: number of results" 1 "$(jq_py 'len(d)' "$ONCE_JSON")"
expect_eq "C: success" false "$(target_field success hostname=$missing)"
expect_eq "C: reason" dns_nxdomain "$(target_field reason hostname=$missing)"
expect_eq "C: status_code" 0 "$(target_field status_code hostname=$missing)"
expect_eq "C: address" "" "$(target_field address hostname=$missing)"

step "the agent asked the configured servers (dnsmasq query logs)"
for inst in dnsmasq-a dnsmasq-b; do
  echo "   $inst:"
  grep 'query\[' "$EP_TMP/$inst.log" | sed 's/^/     /' || true
done
expect_num "A queries for $name at dnsmasq A" \
  "$(grep -c "query\[A\] $name from" "$EP_TMP/dnsmasq-a.log" || true)" ">=" 1
expect_num "A queries for $name at dnsmasq B" \
  "$(grep -c "query\[A\] $name from" "$EP_TMP/dnsmasq-b.log" || true)" ">=" 1
expect_num "A queries for $missing at dnsmasq A" \
  "$(grep -c "query\[A\] $missing from" "$EP_TMP/dnsmasq-a.log" || true)" ">=" 1
expect_eq "queries for $missing at dnsmasq B (not configured for C)" 0 \
  "$(grep -c "query\[[A-Z]*\] $missing from" "$EP_TMP/dnsmasq-b.log" || true)"

step "nginx saw one request on each address"
log="$(cat "$EP_TMP/nginx/access.log")"
sed 's/^/   /' "$EP_TMP/nginx/access.log"
expect_eq "requests answered 200 (via 127.0.0.1)" 1 "$(grep -c 'status=200 ' <<<"$log" || true)"
expect_eq "requests answered 500 (via 127.0.0.2)" 1 "$(grep -c 'status=500 ' <<<"$log" || true)"

step "a running agent follows a reload of dns.servers from A to B (no restart)"
agent_port=$(free_port)
live="$EP_TMP/live.yaml"
agent_config "$live" "$dns_a" "$name"
sed -i 's/interval: 5s, timeout: 2s/interval: 1s, timeout: 1s/' "$live"
start_bg_direct agent "$ENVPROBE" --config.file="$live" --web.listen-address="127.0.0.1:$agent_port" run
agent_pid=$BG_PID
wait_tcp agent "$agent_pid" 127.0.0.1 "$agent_port"
# status_code_now: the target's probe_http_status_code in a fresh scrape (empty before a probe).
status_code_now() {
  curl -s "http://127.0.0.1:$agent_port/metrics" >"$EP_TMP/live.prom"
  metric_values "$EP_TMP/live.prom" probe_http_status_code hostname="$name" | head -n 1
}
wait_status() {
  local want="$1" deadline=$((SECONDS + 10)) seen=""
  while ((SECONDS < deadline)); do
    seen=$(status_code_now)
    [[ "$seen" == "$want" ]] && break
    sleep 0.2
  done
  expect_eq "$2" "$want" "$seen"
}
wait_status 200 "via dnsmasq A: status 200"
sed -i "s/127.0.0.1:$dns_a/127.0.0.1:$dns_b/" "$live"
kill -HUP "$agent_pid"
wait_status 500 "after SIGHUP, via dnsmasq B: status 500 (the wrong horizon's nginx)"
sed -i "s/127.0.0.1:$dns_b/127.0.0.1:$dns_a/" "$live"
expect_eq "POST /-/reload back to A" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$agent_port/-/reload")"
wait_status 200 "after the reload back, via dnsmasq A: status 200"
kill -TERM "$agent_pid"
wait_exit "$agent_pid" 10
expect_eq "agent exit code" 0 "$EXIT_CODE"

finish "split-horizon DNS (dns_split_horizon)"
