#!/usr/bin/env bash
# The promotion gate against the real agent: `envprobe gate --for 20s` (GET /api/v1/gate)
#   1. right after the start: fails with "insufficient history" (the agent has not watched the
#      targets for 20 s yet), passes with --allow-partial while every target is green;
#   2. while the public hostname fails: fails (exit 1), naming it, how long it failed and why;
#      --visibility internal still passes;
#   3. after it is fixed: still fails until the failure has left the 20 s window, then passes
#      (exit 0) about 20 s after the fix;
#   and a window that is not a duration, an unknown visibility and no match are unusable (2).
# Everything listens on 127.0.0.1 only, on ports picked at run time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

flip_port=$(free_port)
agent_port=$(free_port)
agent="http://127.0.0.1:$agent_port"
mkdir -p "$EP_TMP/flags"
touch "$EP_TMP/flags/healthy-shop.at.test" "$EP_TMP/flags/healthy-shop-at.example.test"
start_bg flip "$EP_PY" "$EP_LIB_DIR/flip_server.py" --dir "$EP_TMP/flags" --port "$flip_port" \
  --max-seconds 200
wait_tcp flip "$BG_PID" 127.0.0.1 "$flip_port"

cat >"$EP_TMP/agent.yaml" <<YAML
environment: at
environments: { at: { tier: nonprod } }
defaults: { interval: 1s, timeout: 1s }
$(loopback_dns_yaml)
services:
  - name: shop
    hostnames: { internal: [shop.at.test], public: [shop-at.example.test] }
    backends: { at: ["127.0.0.1:$flip_port"] }
    checks:
      - name: home
        http: { scheme: http, path: / }
YAML
start_bg_direct agent "$ENVPROBE" run --config.file="$EP_TMP/agent.yaml" \
  --web.listen-address="127.0.0.1:$agent_port" --storage.path="$EP_TMP/data"
wait_tcp agent "$BG_PID" 127.0.0.1 "$agent_port"
AGENT_PID=$BG_PID

# gate ARGS...: run `envprobe gate --agent $agent ARGS...`; sets GATE_RC, output in gate.out.
gate() {
  GATE_RC=0
  "$ENVPROBE" gate --agent "$agent" "$@" >"$EP_TMP/gate.out" 2>&1 || GATE_RC=$?
  sed 's/^/   | /' "$EP_TMP/gate.out"
}
gate_passes() { gate --for 20s >/dev/null; [[ "$GATE_RC" == 0 ]]; }
both_probed() {
  curl -s --max-time 3 "$agent/api/v1/targets" >"$EP_TMP/targets.json" || return 1
  [[ "$(jq_py 'len([t for t in d if t.get("success")])' "$EP_TMP/targets.json")" == 2 ]]
}
public_down() {
  curl -s --max-time 3 "$agent/api/v1/targets" >"$EP_TMP/targets.json" || return 1
  [[ "$(jq_py '[t["success"] for t in d if t["hostname"] == "shop-at.example.test"][0]' "$EP_TMP/targets.json")" == false ]]
}

step "1. just started: insufficient history; --allow-partial passes"
wait_until 15 both_probed || die "the two targets were not probed green"
gate --for 20s
expect_eq "gate --for 20s right after the start" 1 "$GATE_RC"
grep -q 'insufficient history' "$EP_TMP/gate.out" || fail "the gate does not say insufficient history"
gate --for 20s --allow-partial
expect_eq "gate --for 20s --allow-partial while green" 0 "$GATE_RC"

step "2. the public hostname fails: the gate fails, naming it"
sleep 20 # the agent has now watched both targets for the whole window
gate --for 20s
expect_eq "gate --for 20s, all green for 20 s" 0 "$GATE_RC"
rm "$EP_TMP/flags/healthy-shop-at.example.test"
wait_until 10 public_down || die "the public hostname did not go down"
sleep 3
gate --for 20s
expect_eq "gate while the public hostname fails" 1 "$GATE_RC"
grep 'shop-at.example.test' "$EP_TMP/gate.out" | grep -q 'http_status' ||
  fail "the gate does not name shop-at.example.test with reason http_status"
gate --for 20s --visibility internal
expect_eq "gate --visibility internal while only the public one fails" 0 "$GATE_RC"

step "3. fixed: the gate passes once the failure left the window (about 20 s)"
touch "$EP_TMP/flags/healthy-shop-at.example.test"
fixed=$(date +%s.%N)
public_up() { ! public_down; }
wait_until 10 public_up || die "the public hostname did not recover"
gate --for 20s
expect_eq "gate right after the fix" 1 "$GATE_RC"
wait_until 40 gate_passes || die "the gate did not pass within 40 s of the fix"
took=$("$EP_PY" -c "import time; print(round(time.time() - $fixed, 1))")
gate --for 20s
expect_eq "gate after the window" 0 "$GATE_RC"
expect_num "seconds from the fix to a passing gate" "$took" ">=" 19
pass "the gate passed ${took}s after the fix (window 20 s)"

step "unusable questions exit 2"
gate --for banana
expect_eq "gate --for banana" 2 "$GATE_RC"
gate --for 20s --service nosuchservice
expect_eq "gate for a service with no targets" 2 "$GATE_RC"
grep -q 'no target matches' "$EP_TMP/gate.out" || fail "the gate does not say no target matches"
code=$(curl -s -o "$EP_TMP/gate.json" -w '%{http_code}' --max-time 3 "$agent/api/v1/gate?for=20s&visibility=secret")
expect_eq "GET /api/v1/gate?visibility=secret" 400 "$code"

step "this agent has no api.token_file: announcing is off (403), not a wrong token"
echo "a-token-of-sixteen-chars" >"$EP_TMP/some.token"
rc=0
"$ENVPROBE" deploy --agent "$agent" --token-file "$EP_TMP/some.token" --service shop \
  --version 1 >"$EP_TMP/deploy.out" 2>&1 || rc=$?
expect_eq "deploy against an agent without a token" 2 "$rc"
grep -q 'control API is off' "$EP_TMP/deploy.out" || fail "deploy does not say the control API is off: $(cat "$EP_TMP/deploy.out")"
gate --for 20s --token-file "$EP_TMP/some.token"
expect_eq "gate with a token against an agent without one" 0 "$GATE_RC"

kill -TERM "$AGENT_PID"
wait_exit "$AGENT_PID" 10
expect_eq "exit code on SIGTERM" 0 "$EXIT_CODE"
finish gate
