#!/usr/bin/env bash
# ctest-labels: hostile
# Idle and slow clients must not starve the agent's endpoint: with eight connections that send
# nothing and one that sends a header byte per second, /metrics and /-/healthy still answer
# within 3 s every time, and a real Prometheus scraping every second sees the agent up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/web_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd prometheus "Debian package prometheus"

web_port=$(free_port)
prom_port=$(free_port)
config="$EP_TMP/agent.yaml"
web_agent_config "$config"

step "envprobe run on 127.0.0.1:$web_port"
web_agent_start "$web_port" "$config"
curl -sf --max-time 3 -o /dev/null "http://127.0.0.1:$web_port/-/healthy" ||
  die "fixture: /-/healthy does not answer before any idle client"
# Routes are exact paths: civetweb's prefix matching must not leak through.
for path in /metricsfoo /-/healthy/x /api/v1/targets/x /nope; do
  expect_eq "GET $path (not a route)" 404 \
    "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$web_port$path")"
done
expect_eq "GET / (status page)" 200 \
  "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$web_port/")"

step "prometheus on 127.0.0.1:$prom_port scraping the agent every 1s"
cat >"$EP_TMP/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: envprobe
    static_configs: [ { targets: ["127.0.0.1:$web_port"] } ]
YAML
start_bg prometheus prometheus --config.file="$EP_TMP/prometheus.yml" \
  --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.path="$EP_TMP/tsdb"
prom_pid=$BG_PID
wait_tcp prometheus "$prom_pid" 127.0.0.1 "$prom_port" 20

# prom_up: the agent's `up` as Prometheus sees it now ("" before the first scrape).
prom_up() {
  curl -sf --max-time 3 "http://127.0.0.1:$prom_port/api/v1/query?query=up%7Bjob%3D%22envprobe%22%7D" |
    jq_py '",".join(r["value"][1] for r in d["data"]["result"])' 2>/dev/null || true
}
deadline=$((SECONDS + 20))
until [[ "$(prom_up)" == 1 ]]; do
  ((SECONDS < deadline)) || die "Prometheus never saw the agent up before the idle clients"
  sleep 0.5
done
pass "fixture: Prometheus sees up == 1"

step "8 idle connections and 1 slowloris client"
idle_clients_start "$web_port" 8
sleep 1
kill -0 "$IDLE_PID" 2>/dev/null || die "idle clients did not start: $(cat "$EP_TMP/idle_clients.log")"

step "scraping /metrics and /-/healthy for ~6 s (curl --max-time 3)"
ok=0 bad=0
end=$((SECONDS + 6))
while ((SECONDS < end)); do
  for path in /metrics /-/healthy; do
    t0=$(date +%s.%N)
    if code=$(curl -s --max-time 3 -o "$EP_TMP/scrape.out" -w '%{http_code}' "http://127.0.0.1:$web_port$path") &&
      [[ "$code" == 200 ]]; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
      fail "$path: HTTP ${code:-none} after $("$EP_PY" -c "import time; print(round(time.time() - $t0, 2))")s while idle clients hold connections"
    fi
  done
  sleep 0.5
done
expect_num "scrapes answered" "$ok" ">=" 8
expect_eq "scrapes failed" 0 "$bad"

step "Prometheus' view of the agent during the idle clients"
# Prometheus' `up` for the agent over the last 5 s: every scrape must have succeeded.
q='min_over_time(up%7Bjob%3D%22envprobe%22%7D%5B5s%5D)'
min_up=$(curl -sf --max-time 3 "http://127.0.0.1:$prom_port/api/v1/query?query=$q" |
  jq_py '",".join(r["value"][1] for r in d["data"]["result"])' || echo "<query failed>")
expect_eq "min_over_time(up[5s]) for the agent" 1 "$min_up"
expect_eq "up for the agent now" 1 "$(prom_up)"
kill -0 "$IDLE_PID" 2>/dev/null && pass "idle clients still connected: $(tail -n 1 "$EP_TMP/idle_clients.log")" ||
  fail "the idle client process died: $(tail -n 3 "$EP_TMP/idle_clients.log")"

finish test_web_idle_clients
