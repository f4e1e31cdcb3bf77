#!/usr/bin/env bash
# Logs an operator can act on, with --log.format=json:
#   1. a running agent writes only JSON lines on stderr; a target on a closed port gives one
#      "target down" line with its reason and a redacted URL, and a target whose server starts
#      after the agent gives "target down" and then "target recovered" with down_for_seconds as
#      a JSON number; further failures add no state line;
#   2. `check-config` and `run` on a broken file print the config errors as JSON log lines with
#      file, line and col.
# Everything listens on 127.0.0.1 only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe

closed_port=$(free_port)
late_port=$(free_port)
web_port=$(free_port)

# json_lines FILE: every non-empty line is a JSON object with ts, level and msg; prints the
# count, or the offending lines and exits 1.
json_lines() {
  "$EP_PY" - "$1" <<'PY'
import json, sys
bad, n = [], 0
for raw in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = raw.rstrip("\n")
    if not line:
        continue
    n += 1
    try:
        d = json.loads(line)
        if not isinstance(d, dict) or not all(k in d for k in ("ts", "level", "msg")):
            bad.append(line)
    except ValueError:
        bad.append(line)
if bad or n == 0:
    print(f"{len(bad)} of {n} line(s) are not JSON log lines: {bad[:3]}")
    sys.exit(1)
print(f"{n} line(s)")
PY
}

# state_lines FILE MSG TARGET_PART: the JSON lines with that msg whose target contains TARGET_PART.
state_lines() {
  "$EP_PY" - "$@" <<'PY'
import json, sys
path, msg, target = sys.argv[1:4]
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if isinstance(d, dict) and d.get("msg") == msg and target in str(d.get("target", "")):
        print(json.dumps(d))
PY
}

# field JSON KEY: KEY's value in the JSON object, as JSON (strings quoted).
field() {
  "$EP_PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]).get(sys.argv[2])))' "$1" "$2"
}

config="$EP_TMP/agent.yaml"
cat >"$config" <<YAML
environment: at
$(loopback_dns_yaml)
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod } }
services:
  - name: closed
    hostnames: { internal: [closed.test], public: [] }
    backends: { at: ["127.0.0.1:$closed_port"] }
    checks:
      - name: home
        http: { scheme: http, port: $closed_port, path: "/?token=s3cr3t-value", expect: { status: [200-299] } }
  - name: late
    hostnames: { internal: [late.test], public: [] }
    backends: { at: ["127.0.0.1:$late_port"] }
    checks:
      - name: home
        http: { scheme: http, port: $late_port, path: /, expect: { status: [200-299] } }
YAML

step "1. envprobe run --log.format=json; nothing listens on $closed_port nor (yet) on $late_port"
start_bg_direct agent "$ENVPROBE" run --log.format=json --config.file="$config" \
  --web.listen-address="127.0.0.1:$web_port"
agent=$BG_PID
log="$EP_TMP/agent.log"

# wait_line SECONDS MSG TARGET_PART: wait for a state line; dies if it never comes.
wait_line() {
  local deadline=$((SECONDS + $1))
  while [[ -z "$(state_lines "$log" "$2" "$3")" ]]; do
    kill -0 "$agent" 2>/dev/null || die "envprobe run exited early"
    ((SECONDS < deadline)) || die "no \"$2\" line for $3 within $1s"
    sleep 0.2
  done
}

wait_line 15 "target down" "/late.test"
wait_line 15 "target down" "/closed.test"
closed_down=$(state_lines "$log" "target down" "/closed.test")
echo "   $closed_down"
expect_eq "closed: target down reason" '"connect"' "$(field "$closed_down" reason)"
expect_eq "closed: target down address" "\"127.0.0.1:$closed_port\"" "$(field "$closed_down" address)"
expect_eq "closed: url, redacted" "\"http://closed.test:$closed_port/?token=<redacted>\"" \
  "$(field "$closed_down" url)"
if grep -qF 's3cr3t-value' "$log"; then fail "the log shows the query's secret"; else pass "the log shows no query secret"; fi

step "the server of late.test starts after the agent: the target recovers"
mkdir -p "$EP_TMP/www"
echo welcome >"$EP_TMP/www/index.html"
start_bg late "$EP_PY" -m http.server --bind 127.0.0.1 --directory "$EP_TMP/www" "$late_port"
wait_tcp late "$BG_PID" 127.0.0.1 "$late_port"
wait_line 15 "target recovered" "/late.test"
recovered=$(state_lines "$log" "target recovered" "/late.test")
echo "   $recovered"
expect_eq "late: recovered from reason" '"connect"' "$(field "$recovered" reason)"
kind=$("$EP_PY" -c 'import json, sys
v = json.loads(sys.argv[1]).get("down_for_seconds")
print("number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__)' "$recovered")
expect_eq "late: down_for_seconds is a JSON number" number "$kind"
expect_num "late: down_for_seconds" "$(field "$recovered" down_for_seconds)" ">" 0

step "probing goes on (1 s interval): no more state lines while nothing changes"
sleep 2.5
expect_eq "closed: \"target down\" lines" 1 \
  "$(state_lines "$log" "target down" "/closed.test" | grep -c . || true)"
expect_eq "late: \"target down\" lines" 1 \
  "$(state_lines "$log" "target down" "/late.test" | grep -c . || true)"
expect_eq "late: \"target recovered\" lines" 1 \
  "$(state_lines "$log" "target recovered" "/late.test" | grep -c . || true)"

kill -TERM "$agent"
wait_exit "$agent" 5
expect_eq "envprobe run exit code after SIGTERM" 0 "$EXIT_CODE"
if out=$(json_lines "$log"); then
  pass "agent output: every line is a JSON log line ($out)"
else
  fail "agent output: $out"
fi

step "2. config errors as JSON log lines"
broken="$EP_TMP/broken.yaml"
cat >"$broken" <<YAML
environment: at
environments: { at: { tier: nonprod } }
services:
  - name: shop
    hostnames: { internal: [shop.test], public: [] }
    bogus: 1
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [999] } }
YAML
for cmd in check-config run; do
  rc=0
  if [[ "$cmd" == check-config ]]; then
    timeout -k 5 20 "$ENVPROBE" --log.format=json check-config "$broken" \
      >"$EP_TMP/$cmd.out" 2>"$EP_TMP/$cmd.err" || rc=$?
  else
    timeout -k 5 20 "$ENVPROBE" --log.format=json run --config.file="$broken" \
      --web.listen-address="127.0.0.1:$web_port" >"$EP_TMP/$cmd.out" 2>"$EP_TMP/$cmd.err" || rc=$?
  fi
  expect_eq "$cmd on a broken file: exit code" 1 "$rc"
  sed 's/^/   /' "$EP_TMP/$cmd.err"
  if out=$(json_lines "$EP_TMP/$cmd.err"); then
    pass "$cmd stderr: every line is a JSON log line ($out)"
  else
    fail "$cmd stderr: $out"
  fi
  place=$("$EP_PY" - "$EP_TMP/$cmd.err" "$broken" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("level") == "error" and "bogus" in d.get("msg", ""):
        ok = d.get("file") == sys.argv[2] and type(d.get("line")) is int and type(d.get("col")) is int
        print(f'{d["line"]}:{d["col"]}' if ok else f"bad fields: {line.strip()}")
        break
else:
    print("<no error line about bogus>")
PY
)
  expect_eq "$cmd: the unknown key's error (file named, line:col as numbers)" "6:5" "$place"
done

finish "operator logs (operator_logs)"
