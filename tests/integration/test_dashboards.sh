#!/usr/bin/env bash
# The Grafana dashboards (dashboards/*.json), proven panel by panel on a real Prometheus, since
# Grafana is not packaged for Debian:
#   1. lint: valid JSON, fixed uid, unique panel ids, a query and a unit on every panel, every
#      datasource the ${datasource} variable, no hard-coded instance or job;
#   2. nginx serves a few vhosts (a public hostname it does not bind answers 400, an HTTPS vhost
#      with a certificate made here flaps between 200 and 503, a JSON API answers with the
#      wrong environment in prod), a prod and an AT agent probe them every second, and a real
#      Prometheus scrapes both with the SHIPPED config/prometheus/prometheus.yml (only its
#      addresses and intervals changed) and evaluates the shipped rules.yml;
#   3. every dashboard's variables are resolved through Prometheus' API as Grafana does, and
#      every panel target and annotation query must return data; again for the target
#      dashboard opened from the dashboard_url of an alert the prod agent pushed;
#   4. count by (instance) (probe_success) is 1 for every series (honor_labels + the agent's
#      per-target instance);
#   5. probe_success series scraped from the running agents become the input of a generated
#      `promtool test rules` file: a failing prod series must page, a failing AT series must
#      open a low-priority ticket and escalate after a day.
# Queries of metrics and labels the agent does not export yet fail as "pending" (named in the
# summary); they fail the test like any other until the agent exports them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"
require_cmd "$NGINX" "Debian package nginx-light"
require_cmd /usr/bin/prometheus "Debian package prometheus"
require_cmd promtool "Debian package prometheus"

check="$EP_LIB_DIR/dashboard_check.py"
dashboards=("$ENVPROBE_SOURCE_DIR"/dashboards/*.json)
shipped_prom="$ENVPROBE_SOURCE_DIR/config/prometheus/prometheus.yml"
shipped_rules="$ENVPROBE_SOURCE_DIR/config/prometheus/rules.yml"
# Being added to the agent (their panels return data once it exports them).
pending=(probe_ip_protocol probe_ip_addr_hash probe_tls_version_info
  probe_ssl_last_chain_expiry_timestamp_seconds probe_ssl_last_chain_info
  probe_http_uncompressed_body_length label:instance)

((${#dashboards[@]} == 3)) || die "expected 3 dashboards in dashboards/, found ${#dashboards[@]}"

step "1. lint ${#dashboards[@]} dashboards"
"$EP_PY" "$check" lint "${dashboards[@]}" || fail "dashboard lint (above)"

# --- fixtures --------------------------------------------------------------------------------

step "certificate for the checkout vhost (test CA, valid 10 days: 'expiring soon')"
pki="$EP_TMP/pki"
mkdir -p "$pki"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$pki/ca.key" 2>/dev/null
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=envprobe dashboards test CA" -days 30 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$pki/ca.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$pki/leaf.key" 2>/dev/null
openssl req -new -key "$pki/leaf.key" -subj "/CN=checkout.example.test" -out "$pki/leaf.csr"
printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
  "extendedKeyUsage = serverAuth" \
  "subjectAltName = DNS:checkout.example.test, DNS:checkout.prod.test, DNS:checkout.at.test" \
  >"$pki/leaf.ext"
openssl x509 -req -in "$pki/leaf.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 10 -sha256 -extfile "$pki/leaf.ext" -out "$pki/leaf.pem" 2>"$pki/sign.log" ||
  { cat "$pki/sign.log" >&2; die "openssl could not sign the checkout certificate"; }

http_port=$(free_port)
tls_port=$(free_port)
step "nginx: http 127.0.0.1:$http_port (shop, orders; anything else 400), https 127.0.0.1:$tls_port (checkout, flapping)"
nginx_start nginx "
  # 503 in odd seconds, 200 in even ones: a target that changes state at every probe.
  map \$msec \$flap_fail { \"~[13579]\\.[0-9]+\$\" 1; default 0; }
  server {
    listen 127.0.0.1:$http_port default_server;
    server_name _;
    return 400 \"Invalid Hostname\n\";
  }
  server {
    listen 127.0.0.1:$http_port;
    server_name shop.at.test shop.prod.test shop.example.test;
    location / { default_type text/html; return 200 \"<title>Shop</title> welcome\n\"; }
  }
  server {
    listen 127.0.0.1:$http_port;
    server_name orders.at.test orders.prod.test orders.example.test;
    location / { default_type application/json; return 200 '{\"environment\":\"at\",\"status\":\"ok\"}\n'; }
  }
  server {
    listen 127.0.0.1:$tls_port ssl;
    server_name _;
    ssl_certificate $pki/leaf.pem;
    ssl_certificate_key $pki/leaf.key;
    location / { if (\$flap_fail) { return 503 \"flapping\n\"; } return 200 \"checkout ok\n\"; }
  }" "$http_port" "$tls_port"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H "Host: $1" "http://127.0.0.1:$http_port/"; }
expect_eq "fixture: nginx for Host shop.at.test" 200 "$(code shop.at.test)"
expect_eq "fixture: nginx for Host shop-at.example.test (not bound)" 400 "$(code shop-at.example.test)"
tls_code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$pki/ca.pem" \
  --resolve "checkout.at.test:$tls_port:127.0.0.1" "https://checkout.at.test:$tls_port/")
expect_one_of "fixture: nginx over TLS for checkout.at.test (flapping)" "$tls_code" 200 503

sink_port=$(free_port)
step "webhook sink on 127.0.0.1:$sink_port standing in for Alertmanager"
start_bg sink "$EP_PY" "$EP_LIB_DIR/webhook_sink.py" --dir "$EP_TMP/hooks" --port "$sink_port" \
  --max-seconds "$EP_MAX_LIFETIME"
wait_tcp sink "$BG_PID" 127.0.0.1 "$sink_port"

cat >"$EP_TMP/services.yaml" <<EOF
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: checkout                  # HTTPS; flaps between 200 and 503
    hostnames: { internal: ["checkout.{env}.test"], public: { prod: [checkout.example.test], at: [] } }
    backends: { prod: ["127.0.0.1:$tls_port"], at: ["127.0.0.1:$tls_port"] }
    checks:
      - name: home
        http: { scheme: https, path: /, tls: { ca_file: "$pki/ca.pem" }, expect: { status: [200] } }
  - name: orders                    # answers environment "at" everywhere: prod fails with json
    hostnames: { internal: ["orders.{env}.test"], public: { prod: [orders.example.test], at: [] } }
    backends: { prod: ["127.0.0.1:$http_port"], at: ["127.0.0.1:$http_port"] }
    checks:
      - name: version
        http: { scheme: http, path: /version, expect: { status: [200], json: { environment: "{env}" } } }
  # Never probed during the test: the first run of a target is at FNV-1a(id) % interval, and
  # for these ids (no backend, so no port in them) that is 7 h (at) and 13 h (prod) away.
  - name: reports
    hostnames: { internal: ["reports.{env}.test"], public: [] }
    checks:
      - name: daily
        interval: 24h
        http: { scheme: http, path: /, expect: { status: [200] } }
  - name: shop                      # the forgotten hostname: shop-at.example.test is not bound
    hostnames: { internal: ["shop.{env}.test"], public: { prod: [shop.example.test], at: [shop-at.example.test] } }
    backends: { prod: ["127.0.0.1:$http_port"], at: ["127.0.0.1:$http_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200-299], body_contains: ["<title>Shop"] } }
EOF
window_start=$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)
# The alert link template shipped in config/prod.yaml (and at.yaml): step 3b opens it.
shipped_link=$(grep -m1 '^  dashboard_url: ' "$ENVPROBE_SOURCE_DIR/config/prod.yaml") ||
  die "config/prod.yaml has no alerting.dashboard_url"
[[ "$shipped_link" == "$(grep -m1 '^  dashboard_url: ' "$ENVPROBE_SOURCE_DIR/config/at.yaml")" ]] ||
  fail "config/prod.yaml and config/at.yaml link alerts to different dashboards"
for env in prod at; do
  {
    echo "environment: $env"
    echo "include: [services.yaml]"
    echo "defaults: { interval: 1s, timeout: 1s }"
    loopback_dns_yaml
    echo "alerting:"
    echo "  alertmanagers: [\"http://127.0.0.1:$sink_port\"]"
    echo "  failure_threshold: 1"
    echo "$shipped_link"
    if [[ "$env" == at ]]; then
      echo "maintenance:"
      echo "  windows:"
      echo "    - { name: checkout-deploy, match: { service: checkout }, start: \"$window_start\", duration: 1h }"
    fi
  } >"$EP_TMP/$env.yaml"
  "$ENVPROBE" check-config "$EP_TMP/$env.yaml" >"$EP_TMP/check-config-$env.out" 2>&1 ||
    { cat "$EP_TMP/$env.yaml" "$EP_TMP/check-config-$env.out" >&2; die "envprobe check-config rejected $env.yaml"; }
done

prod_port=$(free_port)
at_port=$(free_port)
dev_port=$(free_port) # no agent: the dev target of the shipped config is down
am_port=$(free_port)  # no Alertmanager: Prometheus' notifications go nowhere
step "agents: prod on 127.0.0.1:$prod_port, at on 127.0.0.1:$at_port (every target every 1s)"
start_bg agent-prod "$ENVPROBE" run --config.file="$EP_TMP/prod.yaml" --web.listen-address="127.0.0.1:$prod_port"
wait_tcp agent-prod "$BG_PID" 127.0.0.1 "$prod_port"
start_bg agent-at "$ENVPROBE" run --config.file="$EP_TMP/at.yaml" --web.listen-address="127.0.0.1:$at_port"
wait_tcp agent-at "$BG_PID" 127.0.0.1 "$at_port"

step "Prometheus with the shipped prometheus.yml: addresses and intervals changed, nothing else"
prom_dir="$EP_TMP/prometheus"
mkdir -p "$prom_dir"
cp "$shipped_rules" "$prom_dir/rules.yml" # `rule_files: [rules.yml]` is relative to the config
"$EP_PY" - "$shipped_prom" "$prom_dir/prometheus.yml" <<PY
import sys
text = open(sys.argv[1]).read()
for old, new in [("envprobe-prod.example.internal:9470", "127.0.0.1:$prod_port"),
                 ("envprobe-at.example.internal:9470", "127.0.0.1:$at_port"),
                 ("envprobe-dev.example.internal:9470", "127.0.0.1:$dev_port"),
                 ("alertmanager.example.internal:9093", "127.0.0.1:$am_port"),
                 ("scrape_interval: 15s", "scrape_interval: 1s"),
                 ("evaluation_interval: 15s", "evaluation_interval: 1s")]:
    if text.count(old) != 1:
        sys.exit(f"the shipped prometheus.yml changed shape: {old!r} occurs {text.count(old)} times")
    text = text.replace(old, new)
open(sys.argv[2], "w").write(text)
PY
diff -u "$shipped_prom" "$prom_dir/prometheus.yml" | tail -n +3 | grep -E '^[-+]' | sed 's/^/   /' || true
changed=$(diff "$shipped_prom" "$prom_dir/prometheus.yml" | grep -c '^>' || true)
expect_eq "lines changed from the shipped prometheus.yml" 6 "$changed"
promtool check config "$prom_dir/prometheus.yml" >"$EP_TMP/promtool-config.out" 2>&1 ||
  { cat "$EP_TMP/promtool-config.out" >&2; die "promtool check config rejected the adapted copy"; }

prom_port=$(free_port)
prom="http://127.0.0.1:$prom_port"
start_bg prometheus /usr/bin/prometheus --config.file="$prom_dir/prometheus.yml" \
  --storage.tsdb.path="$prom_dir/data" --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn
prom_pid=$BG_PID
wait_tcp prometheus "$prom_pid" 127.0.0.1 "$prom_port" 30

# promq EXPR: the value of the first sample of an instant query ("" if none).
promq() {
  curl -s --max-time 5 --get --data-urlencode "query=$1" "$prom/api/v1/query" |
    jq_py 'd["data"]["result"][0]["value"][1] if d.get("data", {}).get("result") else ""' 2>/dev/null || true
}

step "waiting for 20 scrapes of both agents (rate windows need samples; rules evaluate every 1s)"
deadline=$((SECONDS + 45))
reloaded=0
while :; do
  n=$(promq 'min(count_over_time(up{job="envprobe",env=~"prod|at"}[1m]))')
  [[ -n "$n" ]] || n=0
  # A reload a few seconds before the queries: the agent dashboard annotates reloads.
  if ((reloaded == 0 && ${n%.*} >= 16)); then
    code=$(curl -s -o "$EP_TMP/reload.out" -w '%{http_code}' --max-time 10 -X POST "http://127.0.0.1:$at_port/-/reload")
    expect_eq "POST /-/reload to the at agent" 200 "$code"
    reloaded=1
  fi
  ((${n%.*} >= 20)) && break
  kill -0 "$prom_pid" 2>/dev/null || die "Prometheus exited"
  ((SECONDS < deadline)) || die "Prometheus has only $n scrapes of each agent after 45 s"
  sleep 1
done
expect_eq "up of the prod and at agents" "2" "$(promq 'sum(up{job="envprobe",env=~"prod|at"})')"
expect_eq "up of the dev target (no agent there)" "0" "$(promq 'up{job="envprobe",env="dev"}')"
expect_eq "targets known but never probed (reports, interval 24h; one per agent)" 2 \
  "$(promq 'sum(envprobe_targets) - count(probe_success)')"
expect_eq "rules loaded: ProbeFailed pending for prod" "pending" \
  "$(curl -s --max-time 5 --get --data-urlencode 'query=ALERTS{alertname="ProbeFailed",env="prod"}' "$prom/api/v1/query" |
    jq_py '",".join(sorted({r["metric"]["alertstate"] for r in d["data"]["result"]}))')"

# --- 3. every panel query ------------------------------------------------------------------

step "3. every panel, row and annotation query of every dashboard, through Prometheus' API"
pending_args=()
for p in "${pending[@]}"; do pending_args+=(--pending "$p"); done
"$EP_PY" "$check" queries --prom "$prom" --scrape-interval 1 "${pending_args[@]}" \
  --agent-metrics "http://127.0.0.1:$prod_port/metrics" --agent-metrics "http://127.0.0.1:$at_port/metrics" \
  "${dashboards[@]}" | tee "$EP_TMP/queries.out" || true
grep -q '^== queries: ' "$EP_TMP/queries.out" || fail "the query check did not finish (above)"
grep -q '^== queries: .* 0 failed, 0 failed only' "$EP_TMP/queries.out" ||
  fail "dashboard queries without data: $(grep '^== queries: ' "$EP_TMP/queries.out")"

step "3b. the dashboard_url (config/prod.yaml's template) of an alert the prod agent pushed opens the target dashboard on its target"
link=$("$EP_PY" - "$EP_TMP/hooks/api_v2_alerts.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    for a in json.loads(line)["payload"]:
        l = a.get("labels", {})
        if l.get("env") == "prod" and l.get("service") == "checkout" and l.get("visibility") == "public":
            print(a.get("annotations", {}).get("dashboard_url", ""))
            sys.exit(0)
PY
) || true
echo "   $link"
if [[ "$link" == *"/d/envprobe-target?"* ]]; then
  "$EP_PY" "$check" queries --prom "$prom" --scrape-interval 1 --url "$link" "${pending_args[@]}" \
    --agent-metrics "http://127.0.0.1:$prod_port/metrics" --agent-metrics "http://127.0.0.1:$at_port/metrics" \
    "${dashboards[@]}" | tee "$EP_TMP/link-queries.out" || true
  grep -q '^== queries: .* 0 failed, 0 failed only' "$EP_TMP/link-queries.out" ||
    fail "the target dashboard opened from an alert's link: $(grep '^== queries: ' "$EP_TMP/link-queries.out" || echo 'no summary')"
else
  fail "no alert for prod checkout (public) with a dashboard_url to /d/envprobe-target reached the sink: '$link'"
fi

# --- 4. one instance per target --------------------------------------------------------------

step "4. count by (instance) (probe_success) is 1 for every series"
"$EP_PY" "$check" instance-unique --prom "$prom" \
  --agent-metrics "http://127.0.0.1:$prod_port/metrics" --agent-metrics "http://127.0.0.1:$at_port/metrics" ||
  fail "probe series share an instance (above)"

# --- 5. rules on series from real agents -----------------------------------------------------

step "5. promtool test rules on probe_success scraped from the running agents"
"$EP_PY" "$check" rules-test --prom "$prom" --rules "$shipped_rules" --out "$EP_TMP/rules_from_agents.yml" \
  --agent "http://127.0.0.1:$prod_port/metrics" --agent "http://127.0.0.1:$at_port/metrics" ||
  die "could not build the rules test from the agents' series (above)"
if promtool test rules "$EP_TMP/rules_from_agents.yml" >"$EP_TMP/promtool-test.out" 2>&1; then
  pass "promtool test rules: a failing prod series pages, a failing at series opens a ticket and escalates"
else
  cat "$EP_TMP/promtool-test.out" >&2
  fail "promtool test rules on the agents' series (above)"
fi

finish "dashboards proven on Prometheus"
