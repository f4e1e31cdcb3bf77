#!/usr/bin/env bash
# ctest-labels: hostile
# Live reload of a running agent against real programs: nginx serving the targets (one server,
# every hostname pinned to it with `backends`), a real Alertmanager whose webhook goes to a local
# sink. Agent A (SIGHUP and POST /-/reload) is scraped every 0.2 s for its whole life:
#   6. /-/ready and /-/healthy answer 200 once the targets are loaded and scheduled; GET /-/reload is 405;
#   1. SIGHUP with the same file, several times: envprobe_probes_total never decreases, every
#      target's probe_success is in every scrape, targets keep their pace, the log says
#      unchanged=N;
#   2. invalid files (a YAML syntax error; an interval "banana"; an unknown key in an include):
#      POST /-/reload answers 500 with file:line:col, envprobe_config_last_reload_successful is
#      0, the old targets keep probing; fixing the file sets it back to 1 with a newer timestamp;
#   3. a service added and one removed: the added one's series appear and the removed one's
#      leave within two intervals; the unchanged ones keep counting;
#   4. a failing target's alert fires at the receiver, stays active through three reloads (same
#      file, same file, an unrelated change) with no resolved notification, and is resolved
#      once the target is removed.
# Agent B runs with --config.auto-reload-interval=1s:
#   5. touching its files reloads nothing; adding a service to its include makes the new series
#      appear without a signal, and the log names the file change as the trigger.
# Everything listens on 127.0.0.1 only, on ports picked at run time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd pgrep "Debian package procps"
require_cmd "$NGINX" "Debian package nginx-light"
require_cmd "$AM_BIN" "Debian package prometheus-alertmanager"

# --- helpers -------------------------------------------------------------------------------

now() { echo "$EPOCHREALTIME"; }
elapsed() { "$EP_PY" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$1" "$2"; }

# put FILE: write stdin to FILE atomically (a reload never reads half a file).
put() {
  cat >"$1.tmp"
  mv "$1.tmp" "$1"
}

# services_yaml NAME...: a catalog with one service per NAME, hostname NAME.rl.test pinned to
# nginx; broken.rl.test answers 500, the others 200.
services_yaml() {
  local name
  echo "services:"
  for name in "$@"; do
    cat <<EOF
  - name: $name
    hostnames: { internal: [$name.rl.test], public: [] }
    backends: { at: ["127.0.0.1:$web_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200] } }
EOF
  done
}

# agent_yaml [ALERTING_YAML]: the agent file (it includes services.yaml next to it).
agent_yaml() {
  cat <<EOF
environment: at
include: [services.yaml]
environments: { at: { tier: nonprod } }
defaults: { interval: 1s, timeout: 1s }
$dns_line
${1:-}
EOF
}

# metrics PORT: print the agent's /metrics.
metrics() { curl -s --max-time 3 "http://127.0.0.1:$1/metrics" || true; }

# metric PORT NAME [LABEL=VALUE...]: the sum of the matching samples, or "<absent>".
metric() {
  local port="$1"
  shift
  metrics "$port" >"$EP_TMP/metric.txt"
  metric_values "$EP_TMP/metric.txt" "$@" | "$EP_PY" -c 'import sys
v = [float(x) for x in sys.stdin.read().split()]
print(("%.6f" % sum(v)).rstrip("0").rstrip(".") if v else "<absent>")'
}

# hosts PORT: sorted hostnames with a probe_success sample.
hosts() {
  metrics "$1" | sed -n 's/^probe_success{.*hostname="\([^"]*\)".*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//'
}
hosts_are() { [[ "$(hosts "$1")" == "$2" ]]; }
# lines_of PORT HOST: how many /metrics lines (any family) carry hostname="HOST".
lines_of() { metrics "$1" | grep -c "hostname=\"$2\"" || true; }

# reload PORT: POST /-/reload; sets RELOAD_CODE and RELOAD_BODY.
reload() {
  RELOAD_BODY=$(curl -s --max-time 10 -X POST -o - -w '\n%{http_code}' "http://127.0.0.1:$1/-/reload" || true)
  RELOAD_CODE=${RELOAD_BODY##*$'\n'}
  RELOAD_BODY=${RELOAD_BODY%$'\n'*}
  RELOAD_BODY=${RELOAD_BODY%$'\n'}
}

http_code() { curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$@" || true; }

# log_count LOG REGEX: lines of $EP_TMP/LOG.log matching the extended REGEX.
log_count() { grep -cE -- "$2" "$EP_TMP/$1.log" || true; }
log_count_ge() { (($(log_count "$1" "$2") >= $3)); }

# requests HOST: requests nginx logged for HOST so far.
requests() { grep -c "host=$1 " "$EP_TMP/nginx/access.log" || true; }

# mon MODE FROM TO [ARGS]: a question about agent A's scrapes taken between FROM and TO (unix
# times) by the monitor (metrics_monitor.py: monotonic, hosts H..., includes H..., kept HOST,
# growth, count).
mon() { "$EP_PY" "$EP_LIB_DIR/metrics_monitor.py" ask "$EP_TMP/monitor.jsonl" "$@"; }

# sink MODE STATUS HOST: notifications at the webhook holding an alert of HOST with STATUS
# (firing, resolved). MODE count: how many; first: unix time of the first (empty if none).
sink() {
  "$EP_PY" - "$EP_TMP/hooks/hook.jsonl" "$@" <<'PY'
import json, os, sys
path, mode, status, host = sys.argv[1:5]
notes = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
hits = [n["received"] for n in notes for a in n["payload"].get("alerts", [])
        if a.get("status") == status and a.get("labels", {}).get("hostname") == host]
print(len(hits) if mode == "count" else f"{hits[0]:.3f}" if hits else "")
PY
}
sink_has() { [[ "$(sink count "$1" "$2")" -ge 1 ]]; }
sink_show() {
  "$EP_PY" - "$EP_TMP/hooks/hook.jsonl" <<'PY'
import json, os, sys
for l in (open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []):
    n = json.loads(l)
    for a in n["payload"].get("alerts", []):
        print(f"   t={n['received']:.1f} {a.get('status')} {a.get('labels', {}).get('hostname')} "
              f"startsAt={a.get('startsAt')} endsAt={a.get('endsAt')}")
PY
}

# am_alert HOST: Alertmanager's view of HOST's alert (GET /api/v2/alerts): "<state> <startsAt>
# <endsAt in the future: yes/no>", or "<absent>" (Alertmanager lists no resolved alert).
am_alert() {
  curl -s --max-time 3 -G --data-urlencode "filter=hostname=\"$1\"" "$am_url/api/v2/alerts" |
    "$EP_PY" -c 'import datetime, json, sys
d = json.load(sys.stdin)
if not d:
    print("<absent>"); sys.exit(0)
if len(d) > 1:
    print(f"<{len(d)} alerts>"); sys.exit(0)
a = d[0]
ends = datetime.datetime.fromisoformat(a["endsAt"][:19] + "+00:00").timestamp()
now = datetime.datetime.now(datetime.timezone.utc).timestamp()
print(a["status"]["state"], a["startsAt"], "yes" if ends > now else "no")'
}

# --- fixtures: nginx, webhook sink, Alertmanager -------------------------------------------

web_port=$(free_port)
sink_port=$(free_port)
am_port=$(free_port)
a_port=$(free_port)
b_port=$(free_port)
am_url="http://127.0.0.1:$am_port"
dns_line=$(loopback_dns_yaml)
mkdir -p "$EP_TMP/hooks" "$EP_TMP/am-data" "$EP_TMP/a" "$EP_TMP/b"

step "nginx on 127.0.0.1:$web_port: broken.rl.test -> 500, the other *.rl.test names -> 200"
nginx_start nginx "
  server {
    listen 127.0.0.1:$web_port default_server;
    server_name _;
    return 404 \"no such site\n\";
  }
  server {
    listen 127.0.0.1:$web_port;
    server_name alpha.rl.test beta.rl.test gamma.rl.test delta.rl.test epsilon.rl.test kappa.rl.test
                zeta.rl.test;
    location / { return 200 \"ok \$host\n\"; }
  }
  server {
    listen 127.0.0.1:$web_port;
    server_name broken.rl.test;
    location / { return 500 \"broken\n\"; }
  }" "$web_port"
[[ "$(http_code -H "Host: alpha.rl.test" "http://127.0.0.1:$web_port/")" == 200 &&
  "$(http_code -H "Host: broken.rl.test" "http://127.0.0.1:$web_port/")" == 500 ]] ||
  die "fixture: nginx does not answer alpha.rl.test with 200 and broken.rl.test with 500"

step "webhook sink on 127.0.0.1:$sink_port, Alertmanager on $am_url"
start_bg sink "$EP_PY" "$EP_LIB_DIR/webhook_sink.py" --dir "$EP_TMP/hooks" --port "$sink_port" \
  --max-seconds "$EP_MAX_LIFETIME"
wait_tcp sink "$BG_PID" 127.0.0.1 "$sink_port"
# Fast notifications; the agent sets endsAt on every alert it sends (now + 4 x max(interval,
# resend_interval) = 4 s here), so an alert it stopped re-sending would resolve within seconds.
alertmanager_start "$am_port" "$sink_port" "alertname, service, hostname"

# --- the agents ----------------------------------------------------------------------------

a_conf="$EP_TMP/a/agent.yaml"
a_services="$EP_TMP/a/services.yaml"
alerting="alerting:
  alertmanagers: [\"$am_url\"]
  failure_threshold: 1
  success_threshold: 1
  resend_interval: 1s"
agent_yaml "$alerting" | put "$a_conf"
services_yaml alpha beta gamma broken | put "$a_services"
b_conf="$EP_TMP/b/agent.yaml"
b_services="$EP_TMP/b/services.yaml"
agent_yaml | put "$b_conf"
services_yaml kappa | put "$b_services"
for f in "$a_conf" "$b_conf"; do
  "$ENVPROBE" check-config "$f" >"$EP_TMP/check-config.out" 2>&1 ||
    { cat "$EP_TMP/check-config.out" >&2; die "envprobe check-config rejected $f"; }
done

# start_agent NAME PORT CONFIG [FLAGS...]: run the agent under `timeout`; sets AGENT_PID to the
# agent itself (the child of `timeout`), so that SIGHUP goes to the agent and not to `timeout`.
start_agent() {
  local name="$1" port="$2" conf="$3"
  shift 3
  start_bg "$name" "$ENVPROBE" run --config.file="$conf" --web.listen-address="127.0.0.1:$port" "$@"
  local wrapper=$BG_PID
  wait_tcp "$name" "$wrapper" 127.0.0.1 "$port"
  AGENT_PID=$(pgrep -P "$wrapper" || true)
  [[ "$AGENT_PID" =~ ^[0-9]+$ ]] || die "cannot find the pid of $name under timeout (pid $wrapper)"
}

pass "fixtures ready: nginx, webhook sink, Alertmanager"

step "agent A on 127.0.0.1:$a_port (alpha beta gamma broken), agent B on 127.0.0.1:$b_port (kappa, auto-reload 1s)"
t_start=$(now)
start_agent agent-a "$a_port" "$a_conf"
a_pid=$AGENT_PID
start_agent agent-b "$b_port" "$b_conf" --config.auto-reload-interval=1s
b_pid=$AGENT_PID

# --- 6. ready, healthy, GET /-/reload --------------------------------------------------------

step "6. /-/ready once loaded and scheduled, /-/healthy, GET /-/reload"
a_ready() { [[ "$(http_code "http://127.0.0.1:$a_port/-/ready")" == 200 ]]; }
wait_until 5 a_ready || true
echo "   agent A ready after $(elapsed "$t_start" "$(now)") s"
expect_eq "agent A GET /-/ready (loaded and scheduled)" 200 "$(http_code "http://127.0.0.1:$a_port/-/ready")"
expect_eq "agent A GET /-/healthy" 200 "$(http_code "http://127.0.0.1:$a_port/-/healthy")"
expect_eq "agent A GET /-/reload" 405 "$(http_code "http://127.0.0.1:$a_port/-/reload")"
wait_until 5 hosts_are "$a_port" "alpha.rl.test beta.rl.test broken.rl.test gamma.rl.test" || true
expect_eq "agent A hostnames with probe_success" "alpha.rl.test beta.rl.test broken.rl.test gamma.rl.test" \
  "$(hosts "$a_port")"
expect_eq "agent A envprobe_targets_awaiting_first_run after the first round" 0 \
  "$(metric "$a_port" envprobe_targets_awaiting_first_run)"
wait_until 5 eval '(( $(log_count agent-a "first round started") == 1 ))' || true
expect_eq "agent A logged the end of its first round once" 1 "$(log_count agent-a "first round started")"
expect_eq "agent A envprobe_config_last_reload_successful at start" 1 \
  "$(metric "$a_port" envprobe_config_last_reload_successful)"
wait_until 5 hosts_are "$b_port" "kappa.rl.test" || true
expect_eq "agent B GET /-/ready" 200 "$(http_code "http://127.0.0.1:$b_port/-/ready")"
expect_eq "agent B hostnames with probe_success" "kappa.rl.test" "$(hosts "$b_port")"

# The monitor: agent A's /metrics every 0.2 s until the end, one JSON line per scrape.
start_bg monitor "$EP_PY" "$EP_LIB_DIR/metrics_monitor.py" record "http://127.0.0.1:$a_port/metrics" \
  "$EP_TMP/monitor.jsonl"
mon_start=$(now)
sleep 1

# --- 1. SIGHUP with the same file ------------------------------------------------------------

step "1. SIGHUP x4 with the same file, agent A scraped every 0.2 s"
all4=(alpha.rl.test beta.rl.test broken.rl.test gamma.rl.test)
unchanged4='msg="config reloaded" trigger=SIGHUP targets=4 added=0 removed=0 changed=0 unchanged=4 '
t1=$(now)
alpha1=$(requests alpha.rl.test)
for _ in 1 2 3 4; do
  kill -HUP "$a_pid"
  sleep 0.7
done
sleep 1.2
t1_end=$(now)
alpha1_end=$(requests alpha.rl.test)
window=$(elapsed "$t1" "$t1_end")
echo "   window ${window} s: $(mon count "$t1" "$t1_end") scrapes, probes_total +$(mon growth "$t1" "$t1_end"), alpha probed $((alpha1_end - alpha1)) times"
expect_eq "'config reloaded' lines with trigger=SIGHUP and unchanged=4" 4 "$(log_count agent-a "$unchanged4")"
expect_eq "envprobe_probes_total never decreases across the SIGHUPs" ok "$(mon monotonic "$t1" "$t1_end")"
expect_eq "probe_success of every target in every scrape across the SIGHUPs" ok "$(mon hosts "$t1" "$t1_end" "${all4[@]}")"
expect_eq "probe_failures_total of broken.rl.test kept across the SIGHUPs" ok "$(mon kept "$t1" "$t1_end" broken.rl.test)"
expect_num "envprobe_probes_total growth across the SIGHUPs" "$(mon growth "$t1" "$t1_end")" ">=" 8
# An unchanged target keeps its schedule: one probe a second, no extra run and no lost one.
alpha_runs=$((alpha1_end - alpha1))
expect_num "alpha probes in the ${window} s window (interval 1s)" "$alpha_runs" ">=" "$("$EP_PY" -c "print($window - 1.5)")"
expect_num "alpha probes in the ${window} s window (interval 1s)" "$alpha_runs" "<=" "$("$EP_PY" -c "print($window + 1.5)")"

# --- 2. invalid files ------------------------------------------------------------------------

step "2. invalid files: the running config stays"
# expect_rejected WHAT FILE LINE:COL|any: the last POST answered 500 with errors as
# FILE:LINE:COL: error: ..., one per line; LINE:COL is the expected location of the first.
expect_rejected() {
  local what="$1" file="$2" loc="$3" line bad=0
  expect_eq "$what: POST /-/reload status" 500 "$RELOAD_CODE"
  echo "   body: $RELOAD_BODY"
  while IFS= read -r line; do
    [[ -z "$line" || "$line" =~ ^/[^:]+:[0-9]+:[0-9]+:\ error:\  ]] || bad=1
  done <<<"$RELOAD_BODY"
  if ((bad == 0)) && [[ -n "$RELOAD_BODY" ]]; then
    pass "$what: every line of the body is file:line:col: error: ..."
  else
    fail "$what: the body is not lines of file:line:col: error: ...: '$RELOAD_BODY'"
  fi
  if [[ "$loc" == any && "$RELOAD_BODY" =~ ^"$file":[0-9]+:[0-9]+:\ error:\  ]]; then
    pass "$what: the error names $file with a line and a column"
  elif [[ "$loc" != any && "$RELOAD_BODY" == "$file:$loc: error: "* ]]; then
    pass "$what: the error is at $file:$loc"
  else
    fail "$what: expected the error to start with $file:${loc/any/LINE:COL}: error:, saw '$RELOAD_BODY'"
  fi
  expect_eq "$what: envprobe_config_last_reload_successful" 0 \
    "$(metric "$a_port" envprobe_config_last_reload_successful)"
}
# loc_of FILE WORD: LINE:COL of the first WORD in FILE.
loc_of() { awk -v w="$2" 'i = index($0, w) { print NR ":" i; exit }' "$1"; }

cp "$a_conf" "$EP_TMP/a/agent.good"
cp "$a_services" "$EP_TMP/a/services.good"
ts0=$(metric "$a_port" envprobe_config_last_reload_success_timestamp_seconds)
failed0=$(log_count agent-a 'msg="config reload failed; the running config stays"')
t2=$(now)
declare -A runs2
for h in "${all4[@]}"; do runs2[$h]=$(requests "$h"); done

echo "   a. YAML syntax error in the agent file (unclosed flow sequence)"
sed 's/^include: \[services.yaml\]$/include: [services.yaml/' "$EP_TMP/a/agent.good" | put "$a_conf"
reload "$a_port"
expect_rejected "YAML syntax error" "$a_conf" any
expect_eq "YAML syntax error: success timestamp unchanged" "$ts0" \
  "$(metric "$a_port" envprobe_config_last_reload_success_timestamp_seconds)"
cp "$EP_TMP/a/agent.good" "$a_conf.tmp" && mv "$a_conf.tmp" "$a_conf"
sleep 0.3
reload "$a_port"
expect_eq "fixed: POST /-/reload" "200 config reloaded: 4 targets (0 added, 0 removed, 0 changed, 4 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
expect_eq "fixed: envprobe_config_last_reload_successful" 1 "$(metric "$a_port" envprobe_config_last_reload_successful)"
ts1=$(metric "$a_port" envprobe_config_last_reload_success_timestamp_seconds)
expect_num "fixed: envprobe_config_last_reload_success_timestamp_seconds (was $ts0)" "$ts1" ">" "$ts0"

echo "   b. interval \"banana\" in the agent file"
sed 's/^defaults: { interval: 1s,/defaults: { interval: banana,/' "$EP_TMP/a/agent.good" | put "$a_conf"
reload "$a_port"
expect_rejected "interval banana" "$a_conf" "$(loc_of "$a_conf" banana)"

echo "   c. an unknown key in the included file, by SIGHUP, then by POST"
cp "$EP_TMP/a/agent.good" "$a_conf.tmp" && mv "$a_conf.tmp" "$a_conf"
sed '0,/^    checks:$/s//    owner: team-a\n    checks:/' "$EP_TMP/a/services.good" | put "$a_services"
kill -HUP "$a_pid"
wait_until 5 log_count_ge agent-a 'msg="config reload failed; the running config stays" trigger=SIGHUP' 1 || true
expect_eq "'config reload failed' log lines with trigger=SIGHUP" 1 \
  "$(log_count agent-a 'msg="config reload failed; the running config stays" trigger=SIGHUP')"
owner_loc=$(loc_of "$a_services" owner)
expect_eq "the log names the unknown key's place" 1 \
  "$(log_count agent-a "unknown key .*file=$a_services line=${owner_loc%:*} col=${owner_loc#*:} ")"
reload "$a_port"
expect_rejected "unknown key in the include" "$a_services" "$owner_loc"
expect_eq "'config reload failed; the running config stays' log lines" 4 \
  "$(($(log_count agent-a 'msg="config reload failed; the running config stays"') - failed0))"

sleep 2 # the old targets go on probing under the failed reloads
t2_bad_end=$(now)
echo "   d. the include fixed, POST /-/reload"
cp "$EP_TMP/a/services.good" "$a_services.tmp" && mv "$a_services.tmp" "$a_services"
reload "$a_port"
expect_eq "fixed: POST /-/reload" "200 config reloaded: 4 targets (0 added, 0 removed, 0 changed, 4 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
expect_eq "fixed: envprobe_config_last_reload_successful" 1 "$(metric "$a_port" envprobe_config_last_reload_successful)"
ts2=$(metric "$a_port" envprobe_config_last_reload_success_timestamp_seconds)
expect_num "fixed: envprobe_config_last_reload_success_timestamp_seconds (was $ts1)" "$ts2" ">" "$ts1"
t2_end=$(now)
echo "   window $(elapsed "$t2" "$t2_end") s: $(mon count "$t2" "$t2_end") scrapes, probes_total +$(mon growth "$t2" "$t2_end")"
expect_eq "envprobe_probes_total never decreases across the failed reloads" ok "$(mon monotonic "$t2" "$t2_end")"
expect_eq "probe_success of every target in every scrape across the failed reloads" ok "$(mon hosts "$t2" "$t2_end" "${all4[@]}")"
expect_num "envprobe_probes_total growth while the files were invalid ($(elapsed "$t2" "$t2_bad_end") s)" \
  "$(mon growth "$t2" "$t2_bad_end")" ">=" 6
for h in "${all4[@]}"; do
  expect_num "$h probes while the files were invalid" "$(($(requests "$h") - ${runs2[$h]}))" ">=" 2
done

# --- 3. a service added, one removed --------------------------------------------------------

step "3. gamma removed, delta added"
declare -A runs3
for h in alpha.rl.test beta.rl.test; do runs3[$h]=$(requests "$h"); done
services_yaml alpha beta delta broken | put "$a_services"
t3=$(now)
reload "$a_port"
t3_answer=$(now)
expect_eq "POST /-/reload" "200 config reloaded: 4 targets (1 added, 1 removed, 0 changed, 3 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
after3="alpha.rl.test beta.rl.test broken.rl.test delta.rl.test"
gamma_gone() { [[ "$(lines_of "$a_port" gamma.rl.test)" == 0 ]]; }
wait_until 5 gamma_gone || true
gamma_s=$(elapsed "$t3_answer" "$(now)")
wait_until 5 hosts_are "$a_port" "$after3" || true
delta_s=$(elapsed "$t3_answer" "$(now)")
echo "   gamma's series gone ${gamma_s} s, delta's series there ${delta_s} s after the answer"
expect_eq "hostnames with probe_success after the reload" "$after3" "$(hosts "$a_port")"
expect_eq "/metrics lines of gamma.rl.test (any family)" 0 "$(lines_of "$a_port" gamma.rl.test)"
expect_eq "gamma.rl.test in /api/v1/targets" 0 \
  "$(curl -s --max-time 3 "http://127.0.0.1:$a_port/api/v1/targets" | grep -c '"gamma.rl.test"' || true)"
expect_num "seconds until gamma's series left (2 intervals)" "$gamma_s" "<=" 2
expect_num "seconds until delta's series appeared (2 intervals)" "$delta_s" "<=" 2
sleep 1.5
t3_end=$(now)
expect_eq "envprobe_probes_total never decreases across add/remove" ok "$(mon monotonic "$t3" "$t3_end")"
expect_eq "alpha, beta and broken in every scrape across add/remove" ok \
  "$(mon includes "$t3" "$t3_end" alpha.rl.test beta.rl.test broken.rl.test)"
expect_eq "probe_failures_total of broken.rl.test kept across add/remove" ok "$(mon kept "$t3" "$t3_end" broken.rl.test)"
for h in alpha.rl.test beta.rl.test; do
  expect_num "$h probes in the $(elapsed "$t3" "$t3_end") s after the reload (keeps counting)" \
    "$(($(requests "$h") - ${runs3[$h]}))" ">=" 1
done

# --- 4. a firing alert through reloads -------------------------------------------------------

step "4. broken.rl.test's alert: firing through three reloads, resolved when removed"
if wait_until 10 sink_has firing broken.rl.test; then
  pass "the alert for broken.rl.test fired and reached the webhook ($(elapsed "$t_start" "$(sink first firing broken.rl.test)") s after agent A started)"
else
  fail "no firing notification for broken.rl.test at the webhook $(elapsed "$t_start" "$(now)") s after agent A started"
fi
am_before=$(am_alert broken.rl.test)
echo "   Alertmanager: $am_before"
if [[ "$am_before" == "active "*" yes" ]]; then
  pass "Alertmanager lists broken.rl.test's alert as active"
else
  fail "Alertmanager's view of broken.rl.test before the reloads: expected 'active <startsAt> yes', saw '$am_before'"
fi
t4=$(now)
kill -HUP "$a_pid"
wait_until 5 log_count_ge agent-a "$unchanged4" 5 || true
expect_eq "reload 1 (SIGHUP, same file): 'config reloaded' unchanged=4 lines" 5 "$(log_count agent-a "$unchanged4")"
sleep 0.5
reload "$a_port"
expect_eq "reload 2 (POST, same file)" "200 config reloaded: 4 targets (0 added, 0 removed, 0 changed, 4 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
sleep 0.5
services_yaml alpha beta delta epsilon broken | put "$a_services"
reload "$a_port"
expect_eq "reload 3 (POST, epsilon added)" "200 config reloaded: 5 targets (1 added, 0 removed, 0 changed, 4 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
# The agent's endsAt is 4 s ahead: an alert it stopped re-sending would be resolved by now.
sleep 5.5
am_after=$(am_alert broken.rl.test)
echo "   Alertmanager: $am_after"
sink_show
expect_eq "Alertmanager's view of broken.rl.test after the reloads (state, startsAt, endsAt ahead)" \
  "$am_before" "$am_after"
expect_eq "resolved notifications for broken.rl.test while it was in the config" 0 "$(sink count resolved broken.rl.test)"
expect_eq "firing notifications for broken.rl.test (one: it never flapped)" 1 "$(sink count firing broken.rl.test)"
expect_eq "probe_failures_total of broken.rl.test kept through the reloads" ok \
  "$(mon kept "$t4" "$(now)" broken.rl.test)"

step "4. broken removed"
services_yaml alpha beta delta epsilon | put "$a_services"
t4r=$(now)
reload "$a_port"
expect_eq "POST /-/reload (broken removed)" "200 config reloaded: 4 targets (0 added, 1 removed, 0 changed, 4 unchanged)" \
  "$RELOAD_CODE $RELOAD_BODY"
if wait_until 15 sink_has resolved broken.rl.test; then
  pass "resolved notification for broken.rl.test $(elapsed "$t4r" "$(sink first resolved broken.rl.test)") s after its removal"
else
  fail "no resolved notification for broken.rl.test within 15 s of its removal"
fi
sink_show | grep broken || true
expect_eq "Alertmanager's view of broken.rl.test after its removal" "<absent>" "$(am_alert broken.rl.test)"
expect_eq "/metrics lines of broken.rl.test after its removal" 0 "$(lines_of "$a_port" broken.rl.test)"
expect_eq "hostnames with probe_success" "alpha.rl.test beta.rl.test delta.rl.test epsilon.rl.test" "$(hosts "$a_port")"
t_mon_end=$(now)
expect_eq "envprobe_probes_total never decreased in agent A's life ($(mon count "$mon_start" "$t_mon_end") scrapes)" \
  ok "$(mon monotonic "$mon_start" "$t_mon_end")"

# --- 5. auto reload ------------------------------------------------------------------------

step "5. agent B (--config.auto-reload-interval=1s): touch, then a service added to the include"
reload_lines='msg="(config reloaded|config reload failed|reloading the config)'
before5=$(log_count agent-b "$reload_lines")
touch "$b_conf" "$b_services"
sleep 3
expect_eq "reload log lines after touching both files (content unchanged)" 0 \
  "$(($(log_count agent-b "$reload_lines") - before5))"
services_yaml kappa zeta | put "$b_services"
t5=$(now)
wait_until 6 hosts_are "$b_port" "kappa.rl.test zeta.rl.test" || true
echo "   zeta's series there $(elapsed "$t5" "$(now)") s after the include changed"
expect_eq "agent B hostnames with probe_success" "kappa.rl.test zeta.rl.test" "$(hosts "$b_port")"
file_change='msg="config reloaded" trigger="config file change" targets=2 added=1 removed=0 changed=0 unchanged=1 '
expect_eq "'config reloaded' lines with trigger=\"config file change\" added=1" 1 "$(log_count agent-b "$file_change")"
sleep 2 # two more checks of the files: nothing changed, nothing reloaded
expect_eq "reload log lines since the change (exactly the one)" 1 "$(($(log_count agent-b "$reload_lines") - before5))"
expect_eq "agent B envprobe_config_last_reload_successful" 1 "$(metric "$b_port" envprobe_config_last_reload_successful)"
expect_eq "agent A still healthy" 200 "$(http_code "http://127.0.0.1:$a_port/-/healthy")"
expect_eq "agent B still healthy" 200 "$(http_code "http://127.0.0.1:$b_port/-/healthy")"
if kill -0 "$a_pid" 2>/dev/null && kill -0 "$b_pid" 2>/dev/null; then
  pass "both agents still running"
else
  fail "an agent exited during the test"
fi

echo "   total ${SECONDS} s"
finish "live config reload (reload)"
