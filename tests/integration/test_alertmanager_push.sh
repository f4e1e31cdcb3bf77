#!/usr/bin/env bash
# ctest-labels: hostile
# The agent pushes its own alerts to a real Alertmanager running the shipped routing tree, and
# they reach the right receiver:
#   1. an AT agent's failing public hostname reaches the low-priority queue as a ticket (P4), and
#      nothing pages; a prod agent's failing public hostname pages and files no ticket; a healthy
#      internal hostname raises nothing;
#   2. recovery sends a resolved notification;
#   3. a failure that starts while Alertmanager is down is delivered once it is back (the delay
#      is printed: it goes into the release notes);
#   4. a maintenance window holds an alert back and its end releases it.
# Receivers are webhooks into a local sink; targets are a local server whose answer per Host is
# switched by files. Everything listens on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$AM_BIN" "Debian package prometheus-alertmanager"
require_cmd amtool "Debian package prometheus-alertmanager"

shipped="$ENVPROBE_SOURCE_DIR/config/alertmanager.yml"
[[ -r "$shipped" ]] || die "shipped routing tree not found at $shipped"

# --- helpers -------------------------------------------------------------------------------

now() { date +%s.%N; }
elapsed() { "$EP_PY" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$1" "$2"; }

# stop_proc NAME PID: SIGTERM, wait up to 10 s (SIGKILL and a failed expectation after that),
# and forget the process so that the cleanup on exit does not signal a reused pid.
stop_proc() {
  local name="$1" pid="$2" i keep_pids=() keep_names=()
  kill -TERM "$pid" 2>/dev/null || true
  wait_exit "$pid" 10
  if [[ "$EXIT_CODE" == timeout ]]; then
    fail "$name (pid $pid) did not stop within 10 s of SIGTERM; killed"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  else
    echo "   $name stopped (exit $EXIT_CODE)"
  fi
  for i in "${!EP_PIDS[@]}"; do
    if [[ "${EP_PIDS[$i]}" != "$pid" ]]; then
      keep_pids+=("${EP_PIDS[$i]}")
      keep_names+=("${EP_NAMES[$i]}")
    fi
  done
  EP_PIDS=("${keep_pids[@]}")
  EP_NAMES=("${keep_names[@]}")
}

# sink MODE RECEIVER [KEY=VALUE...]: query what the webhook sink received on /RECEIVER.
# KEY is an alert label, or `status` (the alert's firing/resolved), or `after` (only notifications
# received at or after that unix time). Alerts are told apart by their label sets.
#   count  distinct alerts matching
#   first  unix time of the first notification holding a matching alert (empty if none)
#   labels the labels of the first matching alert, as JSON
#   field  NAME: that field of the first matching alert (startsAt, endsAt, generatorURL, ...)
#   show   every notification, one line each (for the log)
sink() {
  "$EP_PY" - "$EP_TMP/hooks" "$@" <<'PY'
import json, os, sys
hooks, mode, receiver, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
field = args.pop(0) if mode == "field" else None
want = dict(a.split("=", 1) for a in args)
after = float(want.pop("after", "0"))
status = want.pop("status", None)
path = os.path.join(hooks, receiver + ".jsonl")
notes = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
if mode == "show":
    for n in notes:
        p = n["payload"]
        print(f"   /{receiver} t={n['received']:.1f} receiver={p.get('receiver')} status={p.get('status')}")
        for a in p.get("alerts", []):
            labels = ",".join(f"{k}={v}" for k, v in sorted(a.get("labels", {}).items()))
            print(f"      {a.get('status')} {labels} startsAt={a.get('startsAt')} endsAt={a.get('endsAt')}")
    sys.exit(0)
seen, first, first_alert = set(), None, None
for n in notes:
    if n["received"] < after:
        continue
    for a in n["payload"].get("alerts", []):
        labels = a.get("labels", {})
        if status is not None and a.get("status") != status:
            continue
        if any(labels.get(k) != v for k, v in want.items()):
            continue
        seen.add(json.dumps(labels, sort_keys=True))
        if first is None:
            first, first_alert = n["received"], a
if mode == "count":
    print(len(seen))
elif mode == "first":
    print("" if first is None else f"{first:.3f}")
elif mode == "labels":
    print(json.dumps(first_alert["labels"], sort_keys=True) if first_alert else "<no matching alert>")
elif mode == "field":
    print(first_alert.get(field, f"<no field {field}>") if first_alert else "<no matching alert>")
PY
}
sink_has() { [[ "$(sink count "$@")" -ge 1 ]]; }

# metric AGENT_PORT NAME [LABEL=VALUE...]: the sum of the matching samples on the agent's
# /metrics, or "<absent>" if there is none.
metric() {
  local port="$1"
  shift
  curl -s --max-time 3 "http://127.0.0.1:$port/metrics" >"$EP_TMP/metrics.txt" || true
  metric_values "$EP_TMP/metrics.txt" "$@" |
    "$EP_PY" -c 'import sys
v = [float(x) for x in sys.stdin.read().split()]
print(("%g" % sum(v)) if v else "<absent>")'
}
metric_positive() { local port="$1"; shift; "$EP_PY" -c 'import sys; v = sys.argv[1]; sys.exit(0 if v != "<absent>" and float(v) > 0 else 1)' "$(metric "$port" "$@")"; }

# --- fixtures: webhook sink, flip server, Alertmanager ---------------------------------------

sink_port=$(free_port)
flip_port=$(free_port)
am_port=$(free_port)
am_url="http://127.0.0.1:$am_port"
mkdir -p "$EP_TMP/hooks" "$EP_TMP/flags" "$EP_TMP/am-data"

step "webhook sink on 127.0.0.1:$sink_port, target server on 127.0.0.1:$flip_port"
start_bg sink "$EP_PY" "$EP_LIB_DIR/webhook_sink.py" --dir "$EP_TMP/hooks" --port "$sink_port" \
  --max-seconds "$EP_MAX_LIFETIME"
wait_tcp sink "$BG_PID" 127.0.0.1 "$sink_port"
start_bg flip "$EP_PY" "$EP_LIB_DIR/flip_server.py" --dir "$EP_TMP/flags" --port "$flip_port" \
  --max-seconds "$EP_MAX_LIFETIME"
wait_tcp flip "$BG_PID" 127.0.0.1 "$flip_port"

step "fixture: the target answers by Host, switched by a file"
host_code() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$flip_port/"; }
[[ "$(host_code flip.test)" == 400 ]] || die "fixture: flip server answered $(host_code flip.test) without a flag file, expected 400"
touch "$EP_TMP/flags/healthy-flip.test"
[[ "$(host_code flip.test)" == 200 ]] || die "fixture: flip server answered $(host_code flip.test) with a flag file, expected 200"
rm "$EP_TMP/flags/healthy-flip.test"
pass "flip server: 400 Invalid Hostname, 200 once healthy-<host> exists"

am_config="$EP_TMP/alertmanager.yml"
step "Alertmanager config: the shipped routing tree with test-only changes"
"$EP_PY" - "$shipped" "$am_config" "$sink_port" <<'PY'
import re, sys
src, dst, sink_port = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(src).read()

def sub(pattern, repl, expect_min, expect_max=None):
    global text
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n < expect_min or (expect_max is not None and n > expect_max):
        sys.exit(f"shipped config changed shape: {pattern!r} matched {n} times")

# Receivers: the placeholder webhooks go to the sink, one path per receiver.
sub(r"^(\s*- url: )http://127\.0\.0\.1:9/(\S+)$", rf"\g<1>http://127.0.0.1:{sink_port}/\g<2>", 3, 3)
# Fast notifications: the shipped waits (30s .. 5m) would make the test take minutes.
sub(r"^(\s*group_wait:) \S+$", r"\1 1s", 1)
sub(r"^(\s*group_interval:) \S+$", r"\1 1s", 1)
sub(r"^(\s*repeat_interval:) \S+$", r"\1 1h", 1)
# business-hours gates the non-prod catch-all route. Left as shipped (Mon-Fri 08:00-18:00 UTC),
# non-prod notifications would be held whenever the test runs outside those hours and the
# result would depend on the clock; widened to every day, all day, the route is otherwise
# unchanged.
sub(r"^(\s*- weekdays:) \['monday:friday'\]$", r"\1 ['sunday:saturday']", 1, 1)
sub(r"^(\s*- start_time:) '08:00'$", r"\1 '00:00'", 1, 1)
sub(r"^(\s*end_time:) '18:00'$", r"\1 '24:00'", 1, 1)
open(dst, "w").write(text)
PY
diff -u "$shipped" "$am_config" | tail -n +3 | grep -E '^[-+]' | sed 's/^/   /' || true
amtool check-config "$am_config" >"$EP_TMP/amtool.out" 2>&1 ||
  { cat "$EP_TMP/amtool.out" >&2; die "amtool check-config rejected the modified routing tree"; }
pass "amtool check-config accepts the modified routing tree"
receivers=$(grep -oE "url: http://127\.0\.0\.1:$sink_port/\S+" "$am_config" | sed 's|.*/||' | sort | tr '\n' ' ')
expect_eq "webhook paths in the modified config" "default nonprod-low-priority pager " "$receivers"

# am_start [LOG_NAME]: start Alertmanager on $am_port with $am_config and $EP_TMP/am-data; sets
# AM_PID and AM_READY_AT (unix time at which /-/ready first answered 200).
am_start() {
  start_bg "${1:-alertmanager}" "$AM_BIN" --config.file="$am_config" --storage.path="$EP_TMP/am-data" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= --log.level=debug
  AM_PID=$BG_PID
  local deadline=$((SECONDS + 20))
  until curl -sf --max-time 1 -o /dev/null "$am_url/-/ready"; do
    kill -0 "$AM_PID" 2>/dev/null || die "Alertmanager exited before it was ready (see its log)"
    ((SECONDS < deadline)) || die "Alertmanager not ready on $am_url after 20 s"
    sleep 0.05
  done
  AM_READY_AT=$(now)
}

step "Alertmanager on $am_url"
am_start
pass "Alertmanager ready"

step "fixture: alerts posted to Alertmanager's v2 API reach the sink, routed by env"
fixture_alerts=$(
  "$EP_PY" - <<'PY'
import json
def alert(**labels):
    return {"labels": {"alertname": "SinkFixture", "service": "fixture", **labels},
            "annotations": {"summary": "routing fixture"}}
print(json.dumps([alert(env="dev", severity="ticket"), alert(env="prod", severity="page"), alert()]))
PY
)
code=$(curl -s -o "$EP_TMP/post.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "$fixture_alerts" "$am_url/api/v2/alerts")
[[ "$code" == 200 ]] || die "Alertmanager answered $code to POST /api/v2/alerts: $(cat "$EP_TMP/post.out")"
wait_until 10 sink_has nonprod-low-priority alertname=SinkFixture env=dev || true
wait_until 5 sink_has pager alertname=SinkFixture env=prod || true
wait_until 5 sink_has default alertname=SinkFixture || true
sleep 1.5 # longer than group_interval: anything misrouted would have arrived by now
for r in nonprod-low-priority pager default; do sink show "$r"; done
expect_eq "fixture alerts at /nonprod-low-priority (env=dev only)" "1/1" \
  "$(sink count nonprod-low-priority alertname=SinkFixture)/$(sink count nonprod-low-priority alertname=SinkFixture env=dev)"
expect_eq "fixture alerts at /pager (env=prod only)" "1/1" \
  "$(sink count pager alertname=SinkFixture)/$(sink count pager alertname=SinkFixture env=prod)"
expect_eq "fixture alerts at /default (the one without env only)" "1/0/0" \
  "$(sink count default alertname=SinkFixture)/$(sink count default env=dev)/$(sink count default env=prod)"
((EP_FAILURES == 0)) || die "the Alertmanager/webhook fixture does not route as expected; agent scenarios skipped"
# The fixture alerts stay firing (no endsAt: resolve_timeout 5m) and never notify again
# (repeat_interval 1h); their notifications are set aside so the scenarios start from empty files.
mkdir -p "$EP_TMP/hooks-fixture"
mv "$EP_TMP"/hooks/*.jsonl "$EP_TMP/hooks-fixture/"

# --- the agents ----------------------------------------------------------------------------

dns_line=$(loopback_dns_yaml)

# agent_config FILE ENV SERVICE [EXTRA_YAML]: an agent for ENV with one service SERVICE whose
# internal name is SERVICE.<env>.test and public names SERVICE-at.example.test (at) and
# SERVICE.example.test (prod), every name pinned to the flip server.
agent_config() {
  local file="$1" env="$2" svc="$3" extra="${4:-}"
  cat >"$file" <<EOF
environment: $env
defaults: { interval: 1s, timeout: 1s }
$dns_line
environments: { at: { tier: nonprod }, prod: { tier: prod } }
alerting:
  alertmanagers: ["$am_url"]
  failure_threshold: 2
  success_threshold: 2
  resend_interval: 2s
$extra
services:
  - name: $svc
    hostnames:
      internal: ["$svc.{env}.test"]
      public: { at: [$svc-at.example.test], prod: [$svc.example.test] }
    backends: { at: ["127.0.0.1:$flip_port"], prod: ["127.0.0.1:$flip_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200-299] } }
EOF
  "$ENVPROBE" check-config "$file" >"$EP_TMP/check-config.out" 2>&1 || {
    sed 's/^/   /' "$file" >&2
    cat "$EP_TMP/check-config.out" >&2
    die "envprobe check-config rejected $file (output above)"
  }
}

# agent_start NAME CONFIG: run the agent; sets AGENT_PID and AGENT_PORT (its web port).
agent_start() {
  AGENT_PORT=$(free_port)
  start_bg "$1" "$ENVPROBE" run --config.file="$2" --web.listen-address="127.0.0.1:$AGENT_PORT" \
    --log.level=debug
  AGENT_PID=$BG_PID
  wait_tcp "$1" "$AGENT_PID" 127.0.0.1 "$AGENT_PORT"
}

address_ok() { [[ "$1" == "127.0.0.1:$flip_port" || "$1" == 127.0.0.1 ]]; }

# expect_labels WHAT RECEIVER FILTER... -- LABEL=VALUE...: the first alert matching FILTER at
# RECEIVER carries these labels.
expect_labels() {
  local what="$1" receiver="$2" filters=() labels
  shift 2
  while (($#)) && [[ "$1" != -- ]]; do filters+=("$1"); shift; done
  shift
  labels=$(sink labels "$receiver" "${filters[@]}")
  if "$EP_PY" - "$labels" "$@" <<'PY'; then
import json, sys
try:
    got = json.loads(sys.argv[1])
except ValueError:
    sys.exit(1)
sys.exit(0 if all(got.get(k) == v for k, v in (a.split("=", 1) for a in sys.argv[2:])) else 1)
PY
    pass "$what: $*"
  else
    fail "$what: expected labels $*, got $labels"
  fi
}

# --- 1. routing by environment -------------------------------------------------------------

step "1. AT and prod agents: public hostname failing, internal hostname healthy"
touch "$EP_TMP/flags/healthy-shop.at.test" "$EP_TMP/flags/healthy-shop.prod.test"
agent_config "$EP_TMP/at.yaml" at shop
agent_config "$EP_TMP/prod.yaml" prod shop
pass "envprobe check-config accepts the alerting block"
t1=$(now)
agent_start agent-at "$EP_TMP/at.yaml"
at_pid=$AGENT_PID at_port=$AGENT_PORT
agent_start agent-prod "$EP_TMP/prod.yaml"
prod_pid=$AGENT_PID prod_port=$AGENT_PORT

wait_until 20 sink_has nonprod-low-priority status=firing hostname=shop-at.example.test || true
wait_until 10 sink_has pager status=firing hostname=shop.example.test || true
echo "   first notifications after $(elapsed "$t1" "$(now)") s"
sleep 3 # more than a probe interval, the resend interval and group_interval: nothing else comes
for r in nonprod-low-priority pager default; do sink show "$r"; done

expect_eq "AT public alert at /nonprod-low-priority" 1 \
  "$(sink count nonprod-low-priority status=firing env=at hostname=shop-at.example.test)"
expect_labels "AT alert labels" nonprod-low-priority env=at hostname=shop-at.example.test -- \
  alertname=ProbeFailed env=at service=shop check=home hostname=shop-at.example.test \
  visibility=public severity=ticket priority=P4 queue=nonprod
at_address=$(sink labels nonprod-low-priority env=at | jq_py 'd.get("address", "<none>")' 2>/dev/null || true)
if address_ok "$at_address"; then
  pass "AT alert address = $at_address (the pinned backend)"
else
  fail "AT alert address: expected 127.0.0.1:$flip_port, got '$at_address'"
fi
expect_eq "alerts at /nonprod-low-priority (exactly the AT public one)" 1 "$(sink count nonprod-low-priority)"
expect_eq "AT alerts at /pager" 0 "$(sink count pager env=at)"
expect_eq "alerts for internal hostnames (any receiver)" 0 \
  "$(($(sink count nonprod-low-priority visibility=internal) + $(sink count pager visibility=internal) + $(sink count default visibility=internal)))"

expect_eq "prod public alert at /pager" 1 "$(sink count pager status=firing env=prod hostname=shop.example.test)"
expect_labels "prod alert labels" pager env=prod hostname=shop.example.test -- \
  alertname=ProbeFailed env=prod service=shop check=home hostname=shop.example.test \
  visibility=public severity=page priority=P1
expect_eq "alerts at /pager (exactly the prod public one)" 1 "$(sink count pager)"
expect_eq "prod alerts at /nonprod-low-priority" 0 "$(sink count nonprod-low-priority env=prod)"
expect_eq "alerts at /default" 0 "$(sink count default)"

expect_eq "AT agent envprobe_alerts_firing{env=at,severity=ticket}" 1 \
  "$(metric "$at_port" envprobe_alerts_firing env=at severity=ticket)"
expect_eq "prod agent envprobe_alerts_firing{env=prod,severity=page}" 1 \
  "$(metric "$prod_port" envprobe_alerts_firing env=prod severity=page)"
expect_num "AT agent envprobe_alerts_sent_total{result=success}" \
  "$(metric "$at_port" envprobe_alerts_sent_total result=success)" ">" 0
expect_eq "AT agent envprobe_alerts_sent_total{result=failure}" 0 \
  "$(metric "$at_port" envprobe_alerts_sent_total result=failure | sed 's/<absent>/0/')"

# --- 2. recovery ---------------------------------------------------------------------------

step "2. recovery: shop-at.example.test becomes healthy"
t2=$(now)
touch "$EP_TMP/flags/healthy-shop-at.example.test"
wait_until 15 sink_has nonprod-low-priority status=resolved hostname=shop-at.example.test || true
sink show nonprod-low-priority
resolved_at=$(sink first nonprod-low-priority status=resolved hostname=shop-at.example.test)
if [[ -n "$resolved_at" ]]; then
  pass "resolved notification for shop-at.example.test at /nonprod-low-priority, $(elapsed "$t2" "$resolved_at") s after recovery"
  ends=$(sink field nonprod-low-priority endsAt status=resolved hostname=shop-at.example.test)
  if "$EP_PY" - "$ends" "$t2" <<'PY'; then
import datetime, re, sys
m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", sys.argv[1])
if not m:
    sys.exit(1)
t = datetime.datetime.fromisoformat(m.group(1) + "+00:00").timestamp()
sys.exit(0 if float(sys.argv[2]) - 2 <= t <= float(sys.argv[2]) + 15 else 1)
PY
    pass "resolved alert endsAt $ends is the resolution time"
  else
    fail "resolved alert endsAt '$ends' is not the resolution time (recovery at $(date -u -d "@${t2%.*}" +%FT%TZ))"
  fi
else
  fail "no resolved notification for shop-at.example.test at /nonprod-low-priority within 15 s of recovery"
fi
expect_eq "AT agent envprobe_alerts_firing{env=at,severity=ticket} after recovery" 0 \
  "$(metric "$at_port" envprobe_alerts_firing env=at severity=ticket | sed 's/<absent>/0/')"
expect_eq "resolved alerts at /pager" 0 "$(sink count pager status=resolved)"
stop_proc agent-at "$at_pid"
stop_proc agent-prod "$prod_pid"

# --- 3. Alertmanager down while a failure starts -------------------------------------------

step "3. Alertmanager stopped; an AT agent's public hostname cart-at.example.test fails"
stop_proc alertmanager "$AM_PID"
am_down_at=$(now)
touch "$EP_TMP/flags/healthy-cart.at.test"
agent_config "$EP_TMP/at-outage.yaml" at cart
agent_start agent-outage "$EP_TMP/at-outage.yaml"
outage_port=$AGENT_PORT outage_pid=$AGENT_PID
t3=$(now)
if wait_until 15 metric_positive "$outage_port" envprobe_alerts_sent_total result=failure; then
  pass "envprobe_alerts_sent_total{result=failure} = $(metric "$outage_port" envprobe_alerts_sent_total result=failure) while Alertmanager is down ($(elapsed "$t3" "$(now)") s after the agent started)"
else
  fail "envprobe_alerts_sent_total{result=failure} still $(metric "$outage_port" envprobe_alerts_sent_total result=failure) 15 s into the outage"
fi
sleep 1 # the alert has been waiting in the agent for a while when Alertmanager returns
expect_eq "envprobe_alerts_queue_dropped_total during the outage" 0 \
  "$(metric "$outage_port" envprobe_alerts_queue_dropped_total | sed 's/<absent>/0/')"
expect_eq "cart alerts received while Alertmanager was down" 0 "$(sink count nonprod-low-priority service=cart)"

step "3. Alertmanager started again (same port, same storage)"
am_start alertmanager-restarted
echo "   Alertmanager ready again after $(elapsed "$am_down_at" "$AM_READY_AT") s down ($(elapsed "$t3" "$AM_READY_AT") s after the agent started)"
wait_until 20 sink_has nonprod-low-priority status=firing hostname=cart-at.example.test || true
sink show nonprod-low-priority | grep -B1 cart || true
delivered=$(sink first nonprod-low-priority status=firing hostname=cart-at.example.test)
if [[ -n "$delivered" ]]; then
  # /-/ready is polled every 0.05 s, so a delivery right at the restart can look a little early.
  outage_delay=$("$EP_PY" -c 'import sys; print(f"{max(0.0, float(sys.argv[2]) - float(sys.argv[1])):.1f}")' "$AM_READY_AT" "$delivered")
  # When Alertmanager received it (its debug log): the agent's share of the delay. Alertmanager
  # skips group_wait for an alert whose startsAt is already older than group_wait, so the two
  # figures are normally close.
  am_received=$("$EP_PY" - "$EP_TMP/alertmanager-restarted.log" <<'PY'
import datetime, re, sys
for line in open(sys.argv[1]):
    m = re.match(r'ts=(\S+) .*msg="Received alert" alert=ProbeFailed\[', line)
    if m:
        print(datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp())
        break
PY
  )
  [[ -z "$am_received" ]] ||
    echo "   (Alertmanager received it from the agent $(elapsed "$AM_READY_AT" "$am_received") s after its return)"
  echo "outage: delivered $outage_delay s after Alertmanager returned"
  pass "the alert that started during the outage arrived at /nonprod-low-priority"
  expect_labels "outage alert labels" nonprod-low-priority hostname=cart-at.example.test -- \
    alertname=ProbeFailed env=at service=cart hostname=cart-at.example.test visibility=public severity=ticket
else
  fail "the alert for cart-at.example.test did not arrive within 20 s of Alertmanager's return (agent: sent_total{result=success}=$(metric "$outage_port" envprobe_alerts_sent_total result=success), failure=$(metric "$outage_port" envprobe_alerts_sent_total result=failure))"
fi
stop_proc agent-outage "$outage_pid"

# --- 4. maintenance window -----------------------------------------------------------------

window_len=13
step "4. maintenance window 'patching' for service billing, ${window_len} s from now"
touch "$EP_TMP/flags/healthy-billing.at.test"
win_start=$(date +%s)
win_end=$((win_start + window_len))
agent_config "$EP_TMP/at-maintenance.yaml" at billing "maintenance:
  windows:
    - name: patching
      match: { service: billing }
      start: \"$(date -u -d "@$win_start" +%Y-%m-%dT%H:%M:%SZ)\"
      end: \"$(date -u -d "@$win_end" +%Y-%m-%dT%H:%M:%SZ)\""
grep -A5 '^maintenance:' "$EP_TMP/at-maintenance.yaml" | sed 's/^/   /'
agent_start agent-maintenance "$EP_TMP/at-maintenance.yaml"
mnt_port=$AGENT_PORT mnt_pid=$AGENT_PID
# Past the failure threshold (2 probes at 1 s) with time to spare, still inside the window.
wait_until 8 metric_positive "$mnt_port" envprobe_alerts_firing env=at severity=ticket || true
sleep 1
expect_eq "envprobe_maintenance_active{window=patching} inside the window" 1 \
  "$(metric "$mnt_port" envprobe_maintenance_active window=patching)"
expect_eq "envprobe_alerts_firing{env=at,severity=ticket} inside the window (held, still counted)" 1 \
  "$(metric "$mnt_port" envprobe_alerts_firing env=at severity=ticket)"
expect_eq "probe_success for billing-at.example.test inside the window (probing continues)" 0 \
  "$(metric "$mnt_port" probe_success hostname=billing-at.example.test)"
echo "   window ends in $((win_end - $(date +%s))) s"
# Until the window ends: nothing for billing may arrive.
wait_until $((win_end - $(date +%s))) sink_has nonprod-low-priority service=billing || true
held_ok=1
if [[ -n "$(sink first nonprod-low-priority service=billing)" ]]; then
  first_billing=$(sink first nonprod-low-priority service=billing)
  if "$EP_PY" -c "import sys; sys.exit(0 if $first_billing < $win_end else 1)"; then
    held_ok=0
    fail "an alert for billing arrived during the maintenance window, $(elapsed "$first_billing" "$win_end") s before its end"
  fi
fi
((held_ok)) && pass "no alert for billing arrived during the maintenance window"
wait_until 10 sink_has nonprod-low-priority status=firing hostname=billing-at.example.test || true
sink show nonprod-low-priority | grep -B1 billing || true
released=$(sink first nonprod-low-priority status=firing hostname=billing-at.example.test)
if [[ -n "$released" ]]; then
  after_end=$(elapsed "$win_end" "$released")
  if "$EP_PY" -c "import sys; sys.exit(0 if 0 <= $after_end <= 6 else 1)"; then
    pass "the held alert arrived $after_end s after the window ended"
  else
    fail "the held alert arrived $after_end s after the window ended, expected 0..6 s"
  fi
else
  fail "no alert for billing-at.example.test within 10 s after the window ended"
fi
expect_eq "envprobe_maintenance_active{window=patching} after the window" 0 \
  "$(metric "$mnt_port" envprobe_maintenance_active window=patching | sed 's/<absent>/0/')"
expect_eq "alerts for the internal billing.at.test" 0 "$(sink count nonprod-low-priority hostname=billing.at.test)"
stop_proc agent-maintenance "$mnt_pid"

echo "   total ${SECONDS} s"
finish "alerts pushed to Alertmanager (alertmanager_push)"
