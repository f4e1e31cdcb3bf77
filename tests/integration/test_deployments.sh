#!/usr/bin/env bash
# ctest-labels: hostile
# Deployment verification against real nginx, a real Alertmanager and the real agent:
#   (a) the backend behind shop.at.test is swapped for one with another Server header and
#       another certificate: both changes are recorded (GET /api/v1/changes,
#       envprobe_target_last_change_timestamp_seconds{what}) within two probe intervals;
#   (b) `envprobe deploy --version 1.5.0 --wait` against shop, which keeps serving 1.4.2, exits
#       1 naming its hostname and what it serves, and once converge_within has passed the
#       target fails with reason version_mismatch and its alert reaches Alertmanager; against
#       cart, which serves 1.5.0, it exits 0;
#   (c) the agent killed with SIGKILL and started again on the same --storage.path still has
#       shop's "down since", both change records and both announcements;
#   and expect.identity: a hostname that answers for another environment fails with reason
#   wrong_environment.
# Everything listens on 127.0.0.1 only, on ports picked at run time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"
require_cmd "$NGINX" "Debian package nginx-light"
require_cmd "$AM_BIN" "Debian package prometheus-alertmanager"

tls_port=$(free_port)
plain_port=$(free_port)
agent_port=$(free_port)
am_port=$(free_port)
agent="http://127.0.0.1:$agent_port"
data="$EP_TMP/data"
pki="$EP_TMP/pki"

step "certificates: a test CA, and two leaves for shop.at.test (old and new backend)"
pki_ca "$pki"
pki_leaf "$pki" old shop.at.test
pki_leaf "$pki" new shop.at.test
old_fp=$(cert_sha256 "$pki/old.pem")
new_fp=$(cert_sha256 "$pki/new.pem")
pass "old sha256 ${old_fp:0:16}…, new sha256 ${new_fp:0:16}…"

# shop_backend NAME CERT TOKENS: nginx serving shop (1.4.2, for env at) over TLS on $tls_port
# with the certificate CERT and server_tokens TOKENS (off: "Server: nginx"; on: with its version).
shop_backend() {
  nginx_start "$1" "
  server {
    listen 127.0.0.1:$tls_port ssl;
    ssl_certificate $pki/$2.pem;
    ssl_certificate_key $pki/$2.key;
    server_tokens $3;
    location = /version { default_type application/json; return 200 '{\"build\":{\"version\":\"1.4.2\"},\"env\":\"at\"}'; }
  }" "$tls_port"
  SHOP_PID=$BG_PID
}
shop_backend shop-old old off
nginx_start others "
  server {
    listen 127.0.0.1:$plain_port;
    location = /version { default_type application/json; return 200 '{\"build\":{\"version\":\"1.5.0\"},\"env\":\"at\"}'; }
    location = /mixup { default_type application/json; return 200 '{\"build\":{\"version\":\"2.0.0\"},\"env\":\"prod\"}'; }
  }" "$plain_port"
alertmanager_start "$am_port" "$(free_port)" "alertname, hostname"

head -c 24 /dev/urandom | base64 | tr -d '\n' >"$EP_TMP/api.token"
cat >"$EP_TMP/agent.yaml" <<YAML
environment: at
environments: { at: { tier: nonprod } }
defaults: { interval: 1s, timeout: 1s }
$(loopback_dns_yaml)
api: { token_file: api.token }
alerting:
  alertmanagers: ["http://127.0.0.1:$am_port"]
  failure_threshold: 1
  resend_interval: 2s
services:
  - name: shop
    hostnames: { internal: [shop.at.test], public: [] }
    backends: { at: ["127.0.0.1:$tls_port"] }
    checks:
      - name: version
        http:
          scheme: https
          path: /version
          tls: { ca_file: $pki/ca.pem }
          version: { json: build.version }
          expect: { identity: { json: env } }
  - name: cart
    hostnames: { internal: [cart.at.test], public: [] }
    backends: { at: ["127.0.0.1:$plain_port"] }
    checks:
      - name: version
        http: { scheme: http, path: /version, version: { json: build.version }, expect: { identity: { json: env } } }
  - name: mixup
    hostnames: { internal: [mixup.at.test], public: [] }
    backends: { at: ["127.0.0.1:$plain_port"] }
    checks:
      - name: version
        http: { scheme: http, path: /mixup, version: { json: build.version }, expect: { identity: { json: env } } }
YAML
"$ENVPROBE" check-config "$EP_TMP/agent.yaml" >"$EP_TMP/check.out" 2>&1 ||
  die "check-config refused the test's agent file: $(cat "$EP_TMP/check.out")"

start_agent() {
  start_bg_direct agent "$ENVPROBE" run --config.file="$EP_TMP/agent.yaml" \
    --web.listen-address="127.0.0.1:$agent_port" --storage.path="$data"
  AGENT_PID=$BG_PID
  wait_tcp agent "$AGENT_PID" 127.0.0.1 "$agent_port"
}

# target HOST FIELD: FIELD of HOST's series in /api/v1/targets ("" when absent or null).
target() {
  curl -s --max-time 3 "$agent/api/v1/targets" >"$EP_TMP/targets.json" || true
  jq_py "next((str(t.get('$2')) for t in d if t['hostname'] == '$1' and t.get('$2') is not None), '')" \
    "$EP_TMP/targets.json" 2>/dev/null | sed 's/^True$/true/; s/^False$/false/' || true
}
# changes WHAT: "old -> new" of each change of shop's WHAT in GET /api/v1/changes, one per line.
changes() {
  curl -s --max-time 3 "$agent/api/v1/changes?service=shop" >"$EP_TMP/changes.json" || true
  jq_py "'\n'.join(c['old'] + ' -> ' + c['new'] for c in d['data'] if c['what'] == '$1')" \
    "$EP_TMP/changes.json" 2>/dev/null || true
}
has_change() { [[ -n "$(changes "$1")" ]]; }
probed() { [[ -n "$(target "$1" last_probe_unix)" ]]; }

step "the agent probes shop (old backend), cart and mixup"
start_agent
wait_until 15 probed shop.at.test || die "shop.at.test was never probed"
for host in mixup.at.test cart.at.test; do
  wait_until 15 probed "$host" || die "$host was never probed"
done
expect_eq "shop success" true "$(target shop.at.test success)"
expect_eq "shop version" 1.4.2 "$(target shop.at.test version)"
expect_eq "cart version" 1.5.0 "$(target cart.at.test version)"
expect_eq "mixup reason (it answers for env prod)" wrong_environment "$(target mixup.at.test reason)"
echo "   mixup detail: $(target mixup.at.test detail)"
curl -s --max-time 3 "$agent/metrics" >"$EP_TMP/metrics.txt"
expect_eq "envprobe_target_version_info for shop 1.4.2" 1 \
  "$(metric_values "$EP_TMP/metrics.txt" envprobe_target_version_info hostname=shop.at.test version=1.4.2)"

step "(a) swap shop's backend: another Server header, another certificate"
sleep 2 # a few probes of the old backend, so the old facts are the baseline
kill -TERM "$SHOP_PID"
wait "$SHOP_PID" 2>/dev/null || true
shop_backend shop-new new on
swapped=$(date +%s.%N) # the new backend listens from here
wait_until 10 has_change server || die "no server change recorded within 10 s: $(cat "$EP_TMP/changes.json")"
wait_until 5 has_change certificate || die "no certificate change recorded: $(cat "$EP_TMP/changes.json")"
seen=$(date +%s.%N)
took=$("$EP_PY" -c "print(round($seen - $swapped, 2))")
echo "   server:      $(changes server)"
echo "   certificate: $(changes certificate)"
[[ "$(changes server)" == "nginx -> nginx/"* ]] || fail "the server change is not nginx -> nginx/<version>"
[[ "$(changes certificate)" == *"$old_fp"*"->"*"$new_fp"* ]] ||
  fail "the certificate change does not go from the old fingerprint to the new one"
[[ "$(changes certificate)" == *"issuer:"*"not_after:"* ]] || fail "the certificate change lacks issuer and not_after"
"$EP_PY" -c "import sys; sys.exit(0 if $took <= 3.0 else 1)" ||
  fail "the changes took ${took}s to show; two intervals are 2 s (plus the probe and a second of slack)"
pass "both changes shown ${took}s after the swap (interval 1 s)"
curl -s --max-time 3 "$agent/metrics" >"$EP_TMP/metrics.txt"
for what in server certificate; do
  at=$(metric_values "$EP_TMP/metrics.txt" envprobe_target_last_change_timestamp_seconds hostname=shop.at.test what=$what)
  expect_num "envprobe_target_last_change_timestamp_seconds{what=$what} >= swap time" "${at:-0}" ">=" "${swapped%.*}"
done
grep 'target changed' "$EP_TMP/agent.log" | grep -q 'what=server' || fail "no 'target changed' log line for the server"
# page_shows TEXT...: the status page contains every TEXT.
page_shows() {
  curl -s --max-time 5 "$agent/" >"$EP_TMP/page.html" || return 1
  local text
  for text in "$@"; do grep -qF -- "$text" "$EP_TMP/page.html" || return 1; done
}
page_shows '<span class="what">server</span>: nginx → nginx/1.22.1' ||
  page_shows '<span class="what">certificate</span>: sha256:' ||
  fail "the status page does not show shop's last change"
page_shows 'Recent changes' '<span class="what">server</span>: nginx → nginx/1.22.1' \
  '<span class="what">certificate</span>: sha256:' ||
  fail "the status page's recent changes lack the server or certificate change"
pass "the status page shows the changes (last change and recent changes)"

step "(b) deploy 1.5.0 to shop (keeps serving 1.4.2): exit 1 naming it, then version_mismatch"
rc=0
"$ENVPROBE" deploy --agent "$agent" --token-file "$EP_TMP/api.token" --service shop \
  --version 1.5.0 --converge-within 3s --wait 4s --poll-interval 500ms >"$EP_TMP/deploy-shop.out" 2>&1 || rc=$?
sed 's/^/   | /' "$EP_TMP/deploy-shop.out"
expect_eq "deploy --wait exit code (shop serves 1.4.2)" 1 "$rc"
grep -q 'shop.at.test' "$EP_TMP/deploy-shop.out" || fail "deploy does not name shop.at.test"
grep -q '1\.4\.2' "$EP_TMP/deploy-shop.out" || fail "deploy does not say shop serves 1.4.2"
mismatch() { [[ "$(target shop.at.test reason)" == version_mismatch ]]; }
wait_until 10 mismatch || die "shop did not fail with version_mismatch after converge_within: reason $(target shop.at.test reason)"
echo "   detail: $(target shop.at.test detail)"
am_has_alert() {
  curl -s --max-time 3 -G --data-urlencode 'filter=hostname="shop.at.test"' \
    "http://127.0.0.1:$am_port/api/v2/alerts" >"$EP_TMP/am.json" || return 1
  jq_py "any('1.5.0' in a['annotations'].get('description', '') and a['status']['state'] == 'active' for a in d) or sys.exit(1)" \
    "$EP_TMP/am.json" >/dev/null 2>&1
}
wait_until 15 am_has_alert || die "Alertmanager has no active alert for shop naming 1.5.0: $(cat "$EP_TMP/am.json")"
pass "Alertmanager holds shop's version_mismatch alert"

step "(b) deploy 1.5.0 to cart (serves it): exit 0"
rc=0
"$ENVPROBE" deploy --agent "$agent" --token-file "$EP_TMP/api.token" --service cart \
  --version 1.5.0 --wait 10s --poll-interval 500ms >"$EP_TMP/deploy-cart.out" 2>&1 || rc=$?
sed 's/^/   | /' "$EP_TMP/deploy-cart.out"
expect_eq "deploy --wait exit code (cart serves 1.5.0)" 0 "$rc"

step "a wrong token is refused and announces nothing"
echo "not-the-token-at-all" >"$EP_TMP/wrong.token"
rc=0
"$ENVPROBE" deploy --agent "$agent" --token-file "$EP_TMP/wrong.token" --service cart \
  --version 9.9.9 >"$EP_TMP/deploy-wrong.out" 2>&1 || rc=$?
expect_eq "deploy with a wrong token" 2 "$rc"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -X POST --data '{"service":"cart","version":"9"}' \
  "$agent/api/v1/deployments")
expect_eq "POST /api/v1/deployments without a token" 401 "$code"
post() { # BODY: POST it with the right token; prints the HTTP status
  curl -s -o "$EP_TMP/post.json" -w '%{http_code}' --max-time 5 -X POST \
    -H "Authorization: Bearer $(cat "$EP_TMP/api.token")" --data "$1" "$agent/api/v1/deployments"
}
expect_eq "a version with a trailing newline" 400 "$(post '{"service":"cart","version":"1.5.0\n"}')"
expect_eq "an unknown service" 400 "$(post '{"service":"nosuch","version":"1"}')"
grep -q 'no service' "$EP_TMP/post.json" || fail "the unknown service is not named: $(cat "$EP_TMP/post.json")"
expect_eq "not JSON" 400 "$(post 'version=1')"
expect_eq "converge_within not a duration" 400 "$(post '{"service":"cart","version":"1","converge_within":"soon"}')"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$agent/api/v1/gate?for=30d")
expect_eq "a gate window longer than the retention (14d)" 400 "$code"

step "(c) kill -9 and restart: down since, changes and announcements are still there"
since=$(target shop.at.test down_since)
[[ -n "$since" ]] || fail "shop has no down_since before the restart"
sleep 1.5 # the history commits about once a second
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
sleep 1
restarted=$(date +%s)
start_agent
probed_again() { [[ "$(target shop.at.test last_probe_unix)" -gt "$restarted" ]]; }
wait_until 15 probed_again || die "the agent did not probe shop after the restart"
expect_eq "shop reason after the restart" version_mismatch "$(target shop.at.test reason)"
expect_eq "shop down_since after kill -9" "$since" "$(target shop.at.test down_since)"
[[ -n "$(changes server)" && -n "$(changes certificate)" ]] || fail "the change records did not survive: $(cat "$EP_TMP/changes.json")"
page_shows '<span class="what">server</span>: nginx → nginx/1.22.1' 'expected 1.5.0' ||
  fail "after the restart the status page lacks the server change or shop's expected version"
curl -s --max-time 3 "$agent/api/v1/deployments" >"$EP_TMP/deployments.json"
expect_eq "announcements after the restart" "cart=1.5.0 shop=1.5.0" \
  "$(jq_py "' '.join(sorted(a['service'] + '=' + a['version'] for a in d['data']))" "$EP_TMP/deployments.json")"
curl -s --max-time 3 "$agent/metrics" >"$EP_TMP/metrics.txt"
at=$(metric_values "$EP_TMP/metrics.txt" envprobe_target_last_change_timestamp_seconds hostname=shop.at.test what=server)
expect_num "last change (server) restored" "${at:-0}" ">=" "${swapped%.*}"
if command -v promtool >/dev/null; then
  promtool check metrics <"$EP_TMP/metrics.txt" >"$EP_TMP/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$EP_TMP/promtool.out")"
fi
ls -l "$data"
kill -TERM "$AGENT_PID"
wait_exit "$AGENT_PID" 10
expect_eq "exit code on SIGTERM" 0 "$EXIT_CODE"
finish deployments
