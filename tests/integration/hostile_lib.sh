# shellcheck shell=bash
# Helpers for the hostile-target tests, on top of lib.sh (source lib.sh first): the hostile
# servers, the agent under `envprobe run`, its /metrics and /api/v1/targets, and a watch of the
# agent's health while hostile targets are probed (control target on time, RSS bounded, alive).

HOSTILE_SERVER="$EP_LIB_DIR/hostile_server.py"
HOSTILE_DNS="$EP_LIB_DIR/hostile_dns.py"
# Under AddressSanitizer freed memory sits in its quarantine and every allocation carries shadow
# and redzones, so the sanitized build is held to a looser bound; the main build proves 300 MB.
RSS_LIMIT_KB=$((300 * 1024))
if [[ -n "${ENVPROBE_SANITIZED:-}" ]]; then RSS_LIMIT_KB=$((600 * 1024)); fi

# hostile_start NAME [ARGS...]: start hostile_server.py (any free port); sets HS_PORT. Requests
# it receives are logged as JSON lines to $EP_TMP/NAME.requests.
hostile_start() {
  local name="$1"
  shift
  local port_file="$EP_TMP/$name.port"
  start_bg "$name" "$EP_PY" "$HOSTILE_SERVER" --port-file "$port_file" \
    --log-file "$EP_TMP/$name.requests" --max-seconds "$EP_MAX_LIFETIME" "$@"
  local pid=$BG_PID
  for _ in $(seq 100); do [[ -s "$port_file" ]] && break; sleep 0.1; done
  [[ -s "$port_file" ]] || die "hostile_server.py $name did not start: $(cat "$EP_TMP/$name.log")"
  HS_PORT=$(cat "$port_file")
  wait_tcp "$name" "$pid" 127.0.0.1 "$HS_PORT"
  : >"$EP_TMP/$name.requests"
}

# hostile_dns_start NAME PORT ARGS...: start hostile_dns.py on 127.0.0.1:PORT (UDP) and wait
# until it answers (a query for a name it has no record of: NXDOMAIN in byname mode).
hostile_dns_start() {
  local name="$1" port="$2"
  shift 2
  start_bg "$name" "$EP_PY" "$HOSTILE_DNS" --port "$port" --max-seconds "$EP_MAX_LIFETIME" "$@"
  for _ in $(seq 100); do grep -q listening "$EP_TMP/$name.log" 2>/dev/null && break; sleep 0.1; done
  grep -q listening "$EP_TMP/$name.log" || die "hostile_dns.py $name did not start: $(cat "$EP_TMP/$name.log")"
}

# requests_seen NAME: the number of requests hostile server NAME has logged.
requests_seen() { grep -c . "$EP_TMP/$1.requests" 2>/dev/null || true; }

# check_config_ok CONFIG: die unless `envprobe check-config` accepts CONFIG.
check_config_ok() {
  "$ENVPROBE" check-config "$1" >"$EP_TMP/check-config.log" 2>&1 ||
    { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected $1"; }
}

# agent_start CONFIG [NAME]: `envprobe run` on CONFIG, web on a free port; waits for
# /-/healthy. Sets AGENT_PID, AGENT_WEB (the base URL) and AGENT_STARTED (unix time).
agent_start() {
  local config="$1" name="${2:-envprobe}" web_port
  web_port=$(free_port)
  AGENT_WEB="http://127.0.0.1:$web_port"
  start_bg_direct "$name" "$ENVPROBE" run --config.file="$config" \
    --web.listen-address="127.0.0.1:$web_port"
  AGENT_PID=$BG_PID
  AGENT_STARTED=$(date +%s.%N)
  local deadline=$((SECONDS + 15))
  until curl -sf --max-time 1 -o /dev/null "$AGENT_WEB/-/healthy"; do
    kill -0 "$AGENT_PID" 2>/dev/null || die "envprobe run exited before it was healthy: $(tail -n 20 "$EP_TMP/$name.log")"
    ((SECONDS < deadline)) || die "envprobe run not healthy on $AGENT_WEB after 15 s"
    sleep 0.1
  done
}

# scrape: fetch the agent's /metrics into $EP_TMP/metrics.txt (empty on failure).
scrape() { curl -s --max-time 5 -o "$EP_TMP/metrics.txt" "$AGENT_WEB/metrics" || : >"$EP_TMP/metrics.txt"; }

# metric NAME [LABEL=VALUE...]: the one matching sample of the last scrape, or "<N series>".
metric() {
  local values n
  values=$(metric_values "$EP_TMP/metrics.txt" "$@")
  n=$(grep -c . <<<"$values" || true)
  if [[ "$n" == 1 ]]; then echo "$values"; else echo "<$n series of $*>"; fi
}

# targets_json: fetch /api/v1/targets into $EP_TMP/targets.json; sets TARGETS_CODE (HTTP status,
# 000 when no answer) and TARGETS_VALID (yes when the body is a JSON array of objects).
targets_json() {
  TARGETS_CODE=$(curl -s --max-time 5 -o "$EP_TMP/targets.json" -w '%{http_code}' \
    "$AGENT_WEB/api/v1/targets" || true)
  TARGETS_VALID=no
  if jq_py '(isinstance(d, list) and all(isinstance(t, dict) for t in d)) or sys.exit(1)' \
    "$EP_TMP/targets.json" >/dev/null 2>&1; then
    TARGETS_VALID=yes
  fi
}

# target_api FIELD HOSTNAME: FIELD of HOSTNAME's entry in the last targets.json.
target_api() {
  "$EP_PY" - "$EP_TMP/targets.json" "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"<targets.json unreadable: {e.__class__.__name__}>")
    sys.exit(0)
m = [t for t in d if t.get("hostname") == sys.argv[3]]
if len(m) != 1:
    print(f"<{len(m)} entries for {sys.argv[3]}>")
else:
    v = m[0].get(sys.argv[2], f"<no field {sys.argv[2]}>")
    print(json.dumps(v) if isinstance(v, bool) else v)
PY
}

# watch_agent SECONDS CONTROL_HOSTNAME CONTROL_SERVER: watch the agent for SECONDS, sampling every
# 0.5 s: /-/healthy, the control target's envprobe_probe_last_run_timestamp_seconds (staleness =
# now - that), VmRSS/VmHWM. Sets WATCH_* and WATCH_PROBES (requests CONTROL_SERVER saw meanwhile).
watch_agent() {
  local secs="$1" control="$2" server="$3" before
  before=$(requests_seen "$server")
  local out
  out=$("$EP_PY" - "$AGENT_WEB" "$AGENT_PID" "$secs" "$control" <<'PY'
import re, sys, time, urllib.request
web, pid, secs, control = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
line_re = re.compile(r'^envprobe_probe_last_run_timestamp_seconds\{(.*)\}\s+(\S+)')
def status(field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return -1
    return -1
stale_max, rss_max, unhealthy, missing, alive = 0.0, 0, 0, 0, True
end = time.time() + secs
while time.time() < end:
    t0 = time.time()
    rss_max = max(rss_max, status("VmRSS"))
    wait = lambda: max(0.2, min(2.0, end - time.time()))
    try:
        urllib.request.urlopen(web + "/-/healthy", timeout=wait()).read()
    except Exception:
        unhealthy += 1
    try:
        text = urllib.request.urlopen(web + "/metrics", timeout=wait()).read().decode("utf-8", "replace")
        stamps = [float(m.group(2)) for m in map(line_re.match, text.splitlines())
                  if m and f'hostname="{control}"' in m.group(1)]
        if stamps:
            stale_max = max(stale_max, time.time() - max(stamps))
        else:
            missing += 1
    except Exception:
        missing += 1
    if status("VmRSS") < 0:
        alive = False
        break
    time.sleep(max(0.0, 0.5 - (time.time() - t0)))
print(f"WATCH_STALE={stale_max:.2f} WATCH_RSS_KB={rss_max} WATCH_HWM_KB={status('VmHWM')} "
      f"WATCH_UNHEALTHY={unhealthy} WATCH_MISSING={missing} WATCH_ALIVE={'yes' if alive else 'no'}")
PY
)
  eval "$out"
  WATCH_PROBES=$(($(requests_seen "$server") - before))
  echo "   watched ${secs}s: control probes=$WATCH_PROBES max staleness=${WATCH_STALE}s" \
    "VmRSS max=$((WATCH_RSS_KB / 1024))MiB VmHWM=$((WATCH_HWM_KB / 1024))MiB" \
    "unhealthy=$WATCH_UNHEALTHY scrapes without control=$WATCH_MISSING alive=$WATCH_ALIVE"
}

# expect_agent_healthy SECONDS: the expectations on the last watch_agent of SECONDS: alive and
# healthy, the 1 s control target probed at least SECONDS-3 times and never stale by more than
# 3 s, RSS under RSS_LIMIT_KB.
expect_agent_healthy() {
  local secs="$1" rc=0
  if [[ "$WATCH_ALIVE" != yes ]] || ! kill -0 "$AGENT_PID" 2>/dev/null; then
    wait "$AGENT_PID" || rc=$?
    fail "the agent died during the watch: exit code $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))")"
    WATCH_ALIVE=no
  fi
  expect_eq "agent alive through the watch" yes "$WATCH_ALIVE"
  expect_eq "failed /-/healthy requests during the watch" 0 "$WATCH_UNHEALTHY"
  expect_num "control target probes in ${secs}s (interval 1s)" "$WATCH_PROBES" ">=" $((secs - 3))
  expect_num "control target staleness, max seconds since its last probe" "$WATCH_STALE" "<=" 3
  expect_num "agent VmRSS max (KiB)" "$WATCH_RSS_KB" "<" "$RSS_LIMIT_KB"
}

# stop_agent SIGNAL SECONDS: signal the agent and wait; sets EXIT_CODE and STOP_SECONDS.
stop_agent() {
  local start
  start=$(date +%s.%N)
  kill "-$1" "$AGENT_PID" 2>/dev/null || true
  wait_exit "$AGENT_PID" "$2"
  STOP_SECONDS=$("$EP_PY" -c "import time; print(round(time.time() - $start, 2))")
  if [[ "$EXIT_CODE" == timeout ]]; then
    kill -KILL "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
}
