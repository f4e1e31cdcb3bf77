#!/usr/bin/env bash
# ctest-labels: hostile
# The life of per-address series with `address_mode: all`, on a running agent whose resolver
# (its own dns.servers) is a DNS server the test switches at run time, pushing its alerts to a
# real Alertmanager whose webhook goes to a local sink:
#   1. shop.addr.test resolves to 127.0.0.2 and 127.0.0.3: one series per address;
#   2. 127.0.0.3 answers 500: its series fails and its alert fires at the receiver;
#   3. the name resolves to 127.0.0.2 only: every 127.0.0.3 series leaves /metrics and
#      /api/v1/targets, and its alert is resolved at the receiver;
#   4. the resolver answers SERVFAIL: the failure shows on 127.0.0.2 (dns_servfail), and no
#      address-less series appears;
#   5. the name resolves again: 127.0.0.2 succeeds;
#   6. late.addr.test is NXDOMAIN from the start: exactly one series without an address
#      (dns_nxdomain); once the name resolves, that series (and its alert) is replaced by a
#      per-address one.
# Everything listens on 127.0.0.0/8 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$AM_BIN" "Debian package prometheus-alertmanager"

SHOP=shop.addr.test
LATE=late.addr.test

# --- helpers -------------------------------------------------------------------------------

# set_dns JSON: the DNS server's answers from now on (written aside, then renamed into place).
set_dns() {
  printf '%s\n' "$1" >"$EP_TMP/answers.json.tmp"
  mv "$EP_TMP/answers.json.tmp" "$EP_TMP/answers.json"
  echo "   dns answers: $1"
}

# scrape: the agent's /metrics and /api/v1/targets, into $EP_TMP/metrics.txt and targets.json.
scrape() {
  curl -s --max-time 3 "http://127.0.0.1:$agent_port/metrics" >"$EP_TMP/metrics.txt" || true
  curl -s --max-time 3 "http://127.0.0.1:$agent_port/api/v1/targets" >"$EP_TMP/targets.json" || true
}

# q MODE ARGS...: a question about the last scrape. ADDR "-" means "no address label" (or an
# empty address in /api/v1/targets).
#   series HOST [FAMILY]     sorted addresses of HOST's samples (every family, or FAMILY)
#   families HOST ADDR       sorted families with a sample of HOST at ADDR
#   value FAMILY HOST ADDR   the one sample's value (or "<absent>", "<N samples>")
#   reasons HOST ADDR        reasons whose envprobe_probe_failure_reason is 1
#   targets HOST             sorted addresses of HOST's entries in /api/v1/targets
#   target FIELD HOST ADDR   FIELD of that entry (or "<N entries>")
q() {
  "$EP_PY" - "$EP_TMP/metrics.txt" "$EP_TMP/targets.json" "$@" <<'PY'
import json, re, sys
metrics, targets_path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
samples = []
for line in open(metrics):
    m = line_re.match(line.strip())
    if m and not line.startswith("#"):
        samples.append((m.group(1), dict(label_re.findall(m.group(2) or "")), m.group(3)))
def addr(labels):
    return labels.get("address") or "-"
def of(host, family=None, address=None):
    return [(f, l, v) for f, l, v in samples if l.get("hostname") == host
            and (family is None or f == family) and (address is None or addr(l) == address)]
def entries(host, address=None):
    try:
        d = json.load(open(targets_path))
    except ValueError:
        return []
    return [t for t in d if t.get("hostname") == host
            and (address is None or (t.get("address") or "-") == address)]
if mode == "series":
    print(" ".join(sorted({addr(l) for _, l, _ in of(args[0], args[1] if len(args) > 1 else None)})))
elif mode == "families":
    print(" ".join(sorted({f for f, _, _ in of(args[0], address=args[1])})))
elif mode == "value":
    found = of(args[1], args[0], args[2])
    print(found[0][2] if len(found) == 1 else "<absent>" if not found else f"<{len(found)} samples>")
elif mode == "reasons":
    print(" ".join(sorted(l.get("reason", "?") for _, l, v in
                          of(args[0], "envprobe_probe_failure_reason", args[1]) if float(v) == 1)))
elif mode == "targets":
    print(" ".join(sorted((t.get("address") or "-") for t in entries(args[0]))))
elif mode == "target":
    found = entries(args[1], args[2])
    print(json.dumps(found[0].get(args[0])) if len(found) == 1 else f"<{len(found)} entries>")
PY
}

# scraped_eq EXPECTED MODE ARGS...: scrape, then q MODE ARGS... prints EXPECTED (for wait_until).
scraped_eq() {
  local want="$1"
  shift
  scrape
  [[ "$(q "$@")" == "$want" ]]
}

# sink MODE STATUS HOST ADDR: what reached the webhook for alerts of HOST at ADDR ("-": the alert
# has no address label) with STATUS (firing, resolved).
#   count        notifications holding such an alert
#   endsAt       endsAt of the last such alert
sink() {
  "$EP_PY" - "$EP_TMP/hooks/hook.jsonl" "$@" <<'PY'
import json, os, sys
path, mode, status, host, address = sys.argv[1:6]
notes = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
hits = [a for n in notes for a in n["payload"].get("alerts", [])
        if a.get("status") == status and a.get("labels", {}).get("hostname") == host
        and (a.get("labels", {}).get("address") or "-") == address]
print(len(hits) if mode == "count" else hits[-1].get("endsAt", "<none>") if hits else "<none>")
PY
}
sink_has() { [[ "$(sink count "$@")" -ge 1 ]]; }
sink_show() {
  "$EP_PY" - "$EP_TMP/hooks/hook.jsonl" <<'PY'
import json, os, sys
for l in (open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []):
    n = json.loads(l)
    for a in n["payload"].get("alerts", []):
        lb = a.get("labels", {})
        print(f"   t={n['received']:.1f} {a.get('status')} {lb.get('hostname')} "
              f"address={lb.get('address', '-')} endsAt={a.get('endsAt')}")
PY
}

# show HOST: the last scrape's series of HOST, for the log.
show() {
  grep -E "^(probe_success|envprobe_probe_failure_reason)\{.*hostname=\"$1\"" "$EP_TMP/metrics.txt" |
    grep -v '} 0$' | sed 's/^/   /' || true
}

# --- fixtures ------------------------------------------------------------------------------

dns_port=$(free_port)
http_port=$(free_port)
sink_port=$(free_port)
am_port=$(free_port)
agent_port=$(free_port)
am_url="http://127.0.0.1:$am_port"
mkdir -p "$EP_TMP/hooks" "$EP_TMP/flags" "$EP_TMP/am-data"

step "fixtures: switchable DNS on 127.0.0.1:$dns_port, HTTP on 127.0.0.2 and 127.0.0.3 port $http_port"
set_dns "{\"$SHOP\": [\"127.0.0.2\", \"127.0.0.3\"], \"$LATE\": \"nxdomain\"}"
start_bg dns "$EP_PY" "$EP_LIB_DIR/switch_dns.py" --port "$dns_port" --answers "$EP_TMP/answers.json" \
  --max-seconds "$EP_MAX_LIFETIME"
start_bg web "$EP_PY" "$EP_LIB_DIR/address_server.py" --port "$http_port" --dir "$EP_TMP/flags" \
  --max-seconds "$EP_MAX_LIFETIME" 127.0.0.2 127.0.0.3
web_pid=$BG_PID
wait_tcp web "$web_pid" 127.0.0.2 "$http_port"
wait_tcp web "$web_pid" 127.0.0.3 "$http_port"
start_bg sink "$EP_PY" "$EP_LIB_DIR/webhook_sink.py" --dir "$EP_TMP/hooks" --port "$sink_port" \
  --max-seconds "$EP_MAX_LIFETIME"
wait_tcp sink "$BG_PID" 127.0.0.1 "$sink_port"

dns_ok() { [[ "$(dns_query "$dns_port" "$SHOP" 2>/dev/null)" == "NOERROR 127.0.0.2 127.0.0.3" ]]; }
wait_until 10 dns_ok || die "fixture: the DNS server does not answer $SHOP with 127.0.0.2 127.0.0.3 (saw '$(dns_query "$dns_port" "$SHOP" 2>&1 || true)')"
expect_eq "fixture: $LATE" NXDOMAIN "$(dns_query "$dns_port" "$LATE")"
code3() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.3:$http_port/"; }
expect_eq "fixture: 127.0.0.3 answers" 200 "$(code3)"
echo 500 >"$EP_TMP/flags/status-127.0.0.3"
expect_eq "fixture: 127.0.0.3 answers, switched" 500 "$(code3)"
rm "$EP_TMP/flags/status-127.0.0.3"

alertmanager_start "$am_port" "$sink_port" "alertname, hostname, address"
pass "fixtures ready: DNS, HTTP on both addresses, webhook sink, Alertmanager"

cat >"$EP_TMP/agent.yaml" <<EOF
environment: at
defaults: { interval: 1s, timeout: 1s, address_mode: all }
dns: { servers: ["127.0.0.1:$dns_port"] }
environments: { at: { tier: nonprod } }
alerting:
  alertmanagers: ["$am_url"]
  failure_threshold: 2
  success_threshold: 2
  resend_interval: 2s
services:
  - name: shop
    hostnames: { internal: ["$SHOP"], public: [] }
    checks:
      - name: home
        http: { scheme: http, port: $http_port, path: /, expect: { status: [200] } }
  - name: late
    hostnames: { internal: ["$LATE"], public: [] }
    checks:
      - name: home
        http: { scheme: http, port: $http_port, path: /, expect: { status: [200] } }
EOF
"$ENVPROBE" check-config "$EP_TMP/agent.yaml" >"$EP_TMP/check-config.out" 2>&1 ||
  { cat "$EP_TMP/check-config.out" >&2; die "envprobe check-config rejected the agent file"; }
start_bg agent "$ENVPROBE" run --config.file="$EP_TMP/agent.yaml" \
  --web.listen-address="127.0.0.1:$agent_port" --log.level=debug
wait_tcp agent "$BG_PID" 127.0.0.1 "$agent_port"

# --- 1 and 6: both addresses; the name that does not resolve -------------------------------

step "1. $SHOP resolves to 127.0.0.2 and 127.0.0.3: one series per address"
both_up() { scraped_eq 1 value probe_success "$SHOP" 127.0.0.2 && [[ "$(q value probe_success "$SHOP" 127.0.0.3)" == 1 ]]; }
wait_until 8 both_up || true
show "$SHOP"
expect_eq "probe_success{address=127.0.0.2}" 1 "$(q value probe_success "$SHOP" 127.0.0.2)"
expect_eq "probe_success{address=127.0.0.3}" 1 "$(q value probe_success "$SHOP" 127.0.0.3)"
expect_eq "addresses of $SHOP's probe_success series" "127.0.0.2 127.0.0.3" "$(q series "$SHOP" probe_success)"
expect_eq "addresses of $SHOP in /api/v1/targets" "127.0.0.2 127.0.0.3" "$(q targets "$SHOP")"

step "6. $LATE is NXDOMAIN from the start: one series, without an address"
wait_until 5 scraped_eq "dns_nxdomain" reasons "$LATE" - || true
show "$LATE"
expect_eq "addresses of $LATE's samples (every family)" "-" "$(q series "$LATE")"
expect_eq "probe_success for $LATE" 0 "$(q value probe_success "$LATE" -)"
expect_eq "failure reason for $LATE" dns_nxdomain "$(q reasons "$LATE" -)"
expect_eq "$LATE in /api/v1/targets" "-" "$(q targets "$LATE")"
expect_eq "reason of $LATE in /api/v1/targets" '"dns_nxdomain"' "$(q target reason "$LATE" -)"
# Failing for two probes is an alert; it has no address either, and must resolve in step 6b.
wait_until 8 sink_has firing "$LATE" - || true
expect_num "firing notifications for $LATE without an address" "$(sink count firing "$LATE" -)" ">=" 1

# --- 2. one address fails --------------------------------------------------------------------

step "2. 127.0.0.3 answers 500 (and, for 6b, $LATE starts resolving to 127.0.0.2)"
echo 500 >"$EP_TMP/flags/status-127.0.0.3"
set_dns "{\"$SHOP\": [\"127.0.0.2\", \"127.0.0.3\"], \"$LATE\": [\"127.0.0.2\"]}"
wait_until 5 scraped_eq "http_status" reasons "$SHOP" 127.0.0.3 || true
show "$SHOP"
expect_eq "probe_success{address=127.0.0.3}" 0 "$(q value probe_success "$SHOP" 127.0.0.3)"
expect_eq "failure reason at 127.0.0.3" http_status "$(q reasons "$SHOP" 127.0.0.3)"
expect_eq "probe_success{address=127.0.0.2}" 1 "$(q value probe_success "$SHOP" 127.0.0.2)"
if wait_until 12 sink_has firing "$SHOP" 127.0.0.3; then
  pass "the alert for $SHOP at 127.0.0.3 fired and reached the receiver"
else
  fail "no firing alert for $SHOP at 127.0.0.3 at the receiver within 12 s"
fi
expect_eq "firing alerts for $SHOP at 127.0.0.2" 0 "$(sink count firing "$SHOP" 127.0.0.2)"
scrape
three_families=$(q families "$SHOP" 127.0.0.3)
echo "   families with address=127.0.0.3: $three_families"
for family in probe_success probe_failures_total envprobe_probe_failure_reason probe_http_status_code; do
  [[ " $three_families " == *" $family "* ]] || fail "no $family sample for 127.0.0.3 while it fails"
done

step "6b. $LATE resolves now: its address-less series is replaced by a per-address one"
wait_until 5 scraped_eq "127.0.0.2" series "$LATE" || true
show "$LATE"
expect_eq "addresses of $LATE's samples (every family)" "127.0.0.2" "$(q series "$LATE")"
expect_eq "probe_success{$LATE, address=127.0.0.2}" 1 "$(q value probe_success "$LATE" 127.0.0.2)"
expect_eq "$LATE in /api/v1/targets" "127.0.0.2" "$(q targets "$LATE")"
if wait_until 8 sink_has resolved "$LATE" -; then
  pass "the address-less alert for $LATE resolved at the receiver"
else
  fail "the address-less alert for $LATE was not resolved at the receiver within 8 s"
fi

# --- 3. the failing address leaves DNS -------------------------------------------------------

step "3. $SHOP resolves to 127.0.0.2 only: 127.0.0.3's series leave, its alert resolves"
t3=$(date +%s)
set_dns "{\"$SHOP\": [\"127.0.0.2\"], \"$LATE\": [\"127.0.0.2\"]}"
if wait_until 5 scraped_eq "127.0.0.2" series "$SHOP"; then
  pass "every 127.0.0.3 sample left /metrics within $(($(date +%s) - t3)) s of the change"
else
  fail "samples of $SHOP 5 s after the change still at: $(q series "$SHOP") (families at 127.0.0.3: $(q families "$SHOP" 127.0.0.3))"
fi
expect_eq "addresses of $SHOP in /api/v1/targets" "127.0.0.2" "$(q targets "$SHOP")"
if wait_until 10 sink_has resolved "$SHOP" 127.0.0.3; then
  ends=$(sink endsAt resolved "$SHOP" 127.0.0.3)
  if "$EP_PY" - "$ends" <<'PY'; then
import datetime, re, sys, time
m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", sys.argv[1])
sys.exit(0 if m and datetime.datetime.fromisoformat(m.group(1) + "+00:00").timestamp() <= time.time() else 1)
PY
    pass "the alert for 127.0.0.3 is resolved at the receiver (endsAt $ends, in the past)"
  else
    fail "the resolved alert for 127.0.0.3 has endsAt '$ends', not in the past"
  fi
else
  fail "no resolved notification for $SHOP at 127.0.0.3 within 10 s"
fi
sleep 2 # two more intervals: the address stays gone
scrape
expect_eq "addresses of $SHOP two intervals later" "127.0.0.2" "$(q series "$SHOP")"

# --- 4. SERVFAIL -----------------------------------------------------------------------------

step "4. the resolver answers SERVFAIL for $SHOP: the failure shows on 127.0.0.2, no address-less series"
set_dns "{\"$SHOP\": \"servfail\", \"$LATE\": [\"127.0.0.2\"]}"
# Scrape from the switch on, for 4 s or more (four probes at 1 s): every scrape must show
# 127.0.0.2 alone, in /metrics and in /api/v1/targets; an address-less series shows up as "-".
seen=""
until_s=$((SECONDS + 5))
while ((SECONDS < until_s)); do
  scrape
  seen="$seen$(q series "$SHOP") / $(q targets "$SHOP");"
  sleep 0.2
done
show "$SHOP"
seen_set=$(tr ';' '\n' <<<"$seen" | sort -u | grep -v '^$' | tr '\n' ';')
expect_eq "addresses of $SHOP (metrics / api) in every scrape over 4+ s of SERVFAIL" \
  "127.0.0.2 / 127.0.0.2;" "$seen_set"
expect_eq "probe_success{address=127.0.0.2}" 0 "$(q value probe_success "$SHOP" 127.0.0.2)"
expect_eq "failure reason at 127.0.0.2" dns_servfail "$(q reasons "$SHOP" 127.0.0.2)"
expect_eq "reason at 127.0.0.2 in /api/v1/targets" '"dns_servfail"' "$(q target reason "$SHOP" 127.0.0.2)"

# --- 5. recovery -----------------------------------------------------------------------------

step "5. $SHOP resolves to 127.0.0.2 again: success"
set_dns "{\"$SHOP\": [\"127.0.0.2\"], \"$LATE\": [\"127.0.0.2\"]}"
wait_until 5 scraped_eq "1" value probe_success "$SHOP" 127.0.0.2 || true
show "$SHOP"
expect_eq "probe_success{address=127.0.0.2}" 1 "$(q value probe_success "$SHOP" 127.0.0.2)"
expect_eq "failure reasons at 127.0.0.2" "" "$(q reasons "$SHOP" 127.0.0.2)"
expect_eq "addresses of $SHOP's samples" "127.0.0.2" "$(q series "$SHOP")"

step "what reached the receiver"
sink_show
expect_eq "alerts for $SHOP without an address (firing or resolved)" 0 \
  "$(($(sink count firing "$SHOP" -) + $(sink count resolved "$SHOP" -)))"

echo "   total ${SECONDS} s"
finish "per-address series lifecycle (address_lifecycle)"
