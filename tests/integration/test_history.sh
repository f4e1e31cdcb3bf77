#!/usr/bin/env bash
# ctest-labels: hostile
# History that survives restarts, against a real nginx and a real agent:
#   1. a target answering 500 shows down in /api/v1/targets with down_since T, and its
#      transition reaches history.sqlite within the batch interval;
#   2. `kill -9` the agent and start it again on the same --storage.path: once it has probed
#      again, down_since is still T (not the restart time), also on the status page;
#   3. garbage written into history.sqlite while stopped: the agent starts anyway, logs the
#      corrupt file and where it moved it, and probes and serves as before.
# Everything listens on 127.0.0.1 only, on ports picked at run time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$NGINX" "Debian package nginx-light"

web_port=$(free_port)
agent_port=$(free_port)
data="$EP_TMP/data"
nginx_start web "
  server {
    listen 127.0.0.1:$web_port;
    location / { return 500 'broken\n'; }
  }" "$web_port"

cat >"$EP_TMP/agent.yaml" <<YAML
environment: at
environments: { at: { tier: nonprod } }
defaults: { interval: 1s, timeout: 1s }
$(loopback_dns_yaml)
services:
  - name: shop
    hostnames: { internal: [shop.hi.test], public: [] }
    backends: { at: ["127.0.0.1:$web_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200] } }
YAML

# start_agent: run the agent on $data (log $EP_TMP/agent.log, appended); sets AGENT_PID.
start_agent() {
  start_bg_direct agent "$ENVPROBE" run --config.file="$EP_TMP/agent.yaml" \
    --web.listen-address="127.0.0.1:$agent_port" --storage.path="$data" --storage.retention=2d
  AGENT_PID=$BG_PID
  wait_tcp agent "$AGENT_PID" 127.0.0.1 "$agent_port"
}

# field NAME: NAME of the one target in /api/v1/targets ("" when absent or null).
field() {
  curl -s --max-time 3 "http://127.0.0.1:$agent_port/api/v1/targets" >"$EP_TMP/targets.json" ||
    true
  jq_py "(d[0].get('$1') if len(d) == 1 else None)" "$EP_TMP/targets.json" 2>/dev/null |
    sed 's/^null$//' || true
}
is_down_with_since() { [[ "$(field success)" == false && -n "$(field down_since)" ]]; }
probed_after() { [[ "$(field last_probe_unix)" -gt "$1" ]]; }

# stored_downs: how many down transitions history.sqlite holds (read by another process, as
# an operator would).
stored_downs() {
  "$EP_PY" - "$data/history.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("SELECT COUNT(*) FROM transitions WHERE up = 0").fetchone()[0])
PY
}
has_stored_down() { [[ "$(stored_downs 2>/dev/null || echo 0)" -ge 1 ]]; }

step "1. the target goes down; its transition is stored"
start_agent
wait_until 15 is_down_with_since || die "the target did not show down with down_since"
since=$(field down_since)
pass "down since $since"
wait_until 10 has_stored_down || die "no down transition in $data/history.sqlite"
pass "history.sqlite holds the down transition"

step "2. kill -9, restart on the same storage: down_since is still $since"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
sleep 2 # the restart's own time must differ from $since by at least a second
restarted=$(date +%s)
start_agent
wait_until 15 probed_after "$restarted" || die "the agent did not probe after the restart"
grep -q 'history: kept' "$EP_TMP/agent.log" || fail "no 'history: kept' line in the log"
expect_eq "success after the restart" false "$(field success)"
expect_eq "down_since after kill -9 and restart" "$since" "$(field down_since)"
page=$(curl -s --max-time 3 "http://127.0.0.1:$agent_port/")
grep -q '<th>Down since</th>' <<<"$page" || fail "the status page has no 'Down since' column"
grep -q "datetime=\"$since\"" <<<"$page" || fail "the status page does not show down since $since"
pass "the status page shows down since $since"

step "3. garbage in history.sqlite: the agent starts, logs it, works"
kill -TERM "$AGENT_PID"
wait_exit "$AGENT_PID" 10
expect_eq "exit code on SIGTERM" 0 "$EXIT_CODE"
head -c 65536 /dev/urandom >"$data/history.sqlite"
rm -f "$data/history.sqlite-wal" "$data/history.sqlite-shm"
: >"$EP_TMP/agent.log"
restarted=$(date +%s)
start_agent
wait_until 15 probed_after "$restarted" || die "the agent did not probe after the garbage"
grep 'not a readable SQLite database' "$EP_TMP/agent.log" | grep -q 'moved_to' ||
  fail "the log does not report the corrupt store: $(cat "$EP_TMP/agent.log")"
aside=("$data"/history.sqlite.corrupt-*)
[[ -f "${aside[0]}" ]] || fail "the corrupt file was not moved aside in $data"
is_down_with_since || fail "the target does not show down with down_since after the garbage"
wait_until 10 has_stored_down || fail "the fresh store holds no down transition"
kill -TERM "$AGENT_PID"
wait_exit "$AGENT_PID" 10
expect_eq "exit code on SIGTERM" 0 "$EXIT_CODE"
finish history
