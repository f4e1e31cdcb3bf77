#!/usr/bin/env bash
# The control API's client commands, `envprobe deploy` and `envprobe gate`, against a fake of the
# agent's API (control_api_fake.py, on 127.0.0.1) as a pipeline runs them:
#   1. deploy without --wait: exit 0; the bearer token, the content type and the JSON body
#      arrived as sent;
#   2. deploy --wait: converging after a few polls exits 0; never converging exits 1 and names
#      the hostname and what it serves;
#   3. a wrong token exits 2 with the agent's message; an unreachable agent exits 2;
#   4. gate: pass exits 0, fail exits 1 and names the target and the reason, no matching target
#      exits 2, a malformed answer exits 2;
#   5. hostile or odd agents: a redirect is not followed, an answer over 16 MiB is refused
#      (exit 2 each); https works with --ca-file and fails without it (the CA is private).
# The real agent's API has tests of its own.
# ctest-labels: hostile
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd openssl "Debian package openssl"

FAKE="$EP_LIB_DIR/control_api_fake.py"
SCENARIO="$EP_TMP/scenario.json"
REQUESTS="$EP_TMP/requests.jsonl"
printf 's3cret-token\n' >"$EP_TMP/token"
printf 'wrong\n' >"$EP_TMP/wrong-token"

# scenario JSON: how the fake answers from now on.
scenario() { printf '%s\n' "$1" >"$SCENARIO"; }

# ep_run NAME ARGS...: run the binary (bounded); sets RC, OUT and ERR (files).
ep_run() {
  local name="$1"
  shift
  OUT="$EP_TMP/$name.out"
  ERR="$EP_TMP/$name.err"
  RC=0
  echo "-- envprobe $*"
  timeout -k 5 60 "$ENVPROBE" "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
  [[ "$RC" != 124 && "$RC" != 137 ]] || die "envprobe $* did not finish within 60s"
  sed 's/^/   out: /' "$OUT"
  sed 's/^/   err: /' "$ERR"
}

# expect_contains WHAT FILE TEXT
expect_contains() {
  if grep -qF -- "$3" "$2"; then
    pass "$1 mentions '$3'"
  else
    fail "$1: expected '$3' in: $(head -c 1500 "$2")"
  fi
}

# last_request EXPR: EXPR (Python, r = the fake's last recorded request).
last_request() { tail -n 1 "$REQUESTS" | jq_py "$(printf '(lambda r: %s)(d)' "$1")"; }

PORT=$(free_port)
scenario '{"converge_after": 0, "gate": "pass"}'
: >"$REQUESTS"
start_bg fake-api "$EP_PY" "$FAKE" "$PORT" s3cret-token "$SCENARIO" "$REQUESTS"
wait_tcp fake-api "$BG_PID" 127.0.0.1 "$PORT"
AGENT="http://127.0.0.1:$PORT"

step "deploy without --wait announces and exits 0"
ep_run announce deploy --agent "$AGENT/" --token-file "$EP_TMP/token" --service shop \
  --version 1.5.0 --converge-within 10m
expect_eq "exit code of deploy" 0 "$RC"
expect_contains "deploy's output" "$OUT" "announced shop 1.5.0 to $AGENT/"
expect_eq "method and path" "POST /api/v1/deployments" "$(last_request 'r["method"] + " " + r["path"]')"
expect_eq "Authorization header" "Bearer s3cret-token" "$(last_request 'r["authorization"]')"
expect_eq "Content-Type header" "application/json" "$(last_request 'r["content_type"]')"
expect_eq "JSON body" '{"converge_within": "10m", "service": "shop", "version": "1.5.0"}' \
  "$(last_request 'json.dumps(json.loads(r["body"]), sort_keys=True)')"

step "deploy --wait converges after a few polls: exit 0"
scenario '{"converge_after": 3}'
: >"$REQUESTS"
ep_run converge deploy --agent "$AGENT" --token-file "$EP_TMP/token" --service shop \
  --version 1.5.1 --wait 30s --poll-interval 100ms
expect_eq "exit code of deploy --wait (converging)" 0 "$RC"
expect_contains "deploy --wait's output" "$OUT" "converged: every hostname of shop serves 1.5.1"
expect_contains "deploy --wait's table" "$OUT" "HOSTNAME"
expect_contains "deploy --wait's table" "$OUT" "SERVES"
expect_eq "polls until converged" 3 "$(grep -c '"method": "GET"' "$REQUESTS")"
expect_eq "poll URL" "/api/v1/deployments ['shop'] Bearer s3cret-token" \
  "$(last_request 'r["path"] + " " + str(r["query"].get("service")) + " " + r["authorization"]')"

step "deploy --wait never converging: exit 1, names the hostname and what it serves"
scenario '{"converge_after": -1}'
ep_run diverge deploy --agent "$AGENT" --token-file "$EP_TMP/token" --service shop \
  --version 1.5.2 --wait 1s --poll-interval 200ms
expect_eq "exit code of deploy --wait (never converging)" 1 "$RC"
expect_contains "deploy --wait's last line" "$OUT" \
  "not converged after 1s: 1 of 3 hostnames serve another version (shop.example.com serves 1.4.2)"
expect_contains "deploy --wait's last line" "$OUT" "not probed yet since the announcement (www.example.com)"
expect_contains "deploy --wait's table" "$OUT" "not probed yet"

step "a wrong token: exit 2 with the agent's message"
ep_run wrong-token deploy --agent "$AGENT" --token-file "$EP_TMP/wrong-token" --service shop \
  --version 1.5.0
expect_eq "exit code with a wrong token" 2 "$RC"
expect_contains "stderr with a wrong token" "$ERR" \
  "POST $AGENT/api/v1/deployments: HTTP 401: invalid bearer token (unauthorized)"

step "an empty token file: exit 2 before any request"
: >"$EP_TMP/empty-token"
ep_run empty-token deploy --agent "$AGENT" --token-file "$EP_TMP/empty-token" --service shop \
  --version 1.5.0
expect_eq "exit code with an empty token file" 2 "$RC"
expect_contains "stderr with an empty token file" "$ERR" "is empty"

step "an unreachable agent: exit 2, names the URL"
DEAD=$(free_port)
ep_run unreachable deploy --agent "http://127.0.0.1:$DEAD" --token-file "$EP_TMP/token" \
  --service shop --version 1.5.0
expect_eq "exit code with an unreachable agent" 2 "$RC"
expect_contains "stderr with an unreachable agent" "$ERR" \
  "POST http://127.0.0.1:$DEAD/api/v1/deployments: agent unreachable"
ep_run unreachable-gate gate --agent "http://127.0.0.1:$DEAD" --for 24h
expect_eq "exit code of gate with an unreachable agent" 2 "$RC"

step "gate pass: exit 0"
scenario '{"gate": "pass"}'
ep_run gate-pass gate --agent "$AGENT" --for 24h --service shop --visibility public
expect_eq "exit code of gate (pass)" 0 "$RC"
expect_contains "gate's output" "$OUT" "PASS: 5 targets green for 24h"
expect_eq "gate query" "{'for': ['24h'], 'service': ['shop'], 'visibility': ['public']} None" \
  "$(last_request 'str(r["query"]) + " " + str(r["authorization"])')"

step "gate fail: exit 1, names the target and the reason"
scenario '{"gate": "fail"}'
ep_run gate-fail gate --agent "$AGENT/" --for 24h --allow-partial --token-file "$EP_TMP/token"
expect_eq "exit code of gate (fail)" 1 "$RC"
expect_contains "gate's output" "$OUT" "FAIL: 1 of 5 targets not green for 24h"
expect_contains "gate's table" "$OUT" "shop.example.com"
expect_contains "gate's table" "$OUT" "http_status"
expect_contains "gate's table" "$OUT" "status 503 not in [200-299]"
expect_eq "gate query with --allow-partial and a token" \
  "['true'] Bearer s3cret-token" \
  "$(last_request 'str(r["query"].get("allow_partial")) + " " + str(r["authorization"])')"

step "gate with no matching target: exit 2"
scenario '{"gate": "none"}'
ep_run gate-none gate --agent "$AGENT" --for 24h --service nosuch
expect_eq "exit code of gate (nothing matches)" 2 "$RC"
expect_contains "stderr of gate (nothing matches)" "$ERR" "no target matches"

step "gate with a malformed answer: exit 2"
scenario '{"gate": "malformed"}'
ep_run gate-malformed gate --agent "$AGENT" --for 24h
expect_eq "exit code of gate (malformed JSON)" 2 "$RC"
expect_contains "stderr of gate (malformed JSON)" "$ERR" "GET $AGENT/api/v1/gate?for=24h: HTTP 200 with an answer that is not JSON"

step "a redirect is not followed: exit 2"
scenario '{"gate": "redirect"}'
ep_run gate-redirect gate --agent "$AGENT" --for 24h
expect_eq "exit code of gate (redirect)" 2 "$RC"
expect_contains "stderr of gate (redirect)" "$ERR" "HTTP 302, a redirect to http://127.0.0.1:9/api/v1/gate (redirects are not followed"

step "an answer over 16 MiB is refused: exit 2"
scenario '{"gate": "huge"}'
ep_run gate-huge gate --agent "$AGENT" --for 24h
expect_eq "exit code of gate (huge answer)" 2 "$RC"
expect_contains "stderr of gate (huge answer)" "$ERR" "the answer is larger than 16 MiB"

step "https: verified with --ca-file, refused without it"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=envprobe control test" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$EP_TMP/tls.key" -out "$EP_TMP/tls.pem" 2>"$EP_TMP/openssl.err" ||
  { cat "$EP_TMP/openssl.err" >&2; die "openssl could not make the test certificate"; }
TLS_PORT=$(free_port)
start_bg fake-api-tls "$EP_PY" "$FAKE" "$TLS_PORT" s3cret-token "$SCENARIO" "$REQUESTS" \
  "$EP_TMP/tls.pem" "$EP_TMP/tls.key"
wait_tcp fake-api-tls "$BG_PID" 127.0.0.1 "$TLS_PORT"
scenario '{"gate": "pass"}'
ep_run gate-https gate --agent "https://127.0.0.1:$TLS_PORT" --for 24h --ca-file "$EP_TMP/tls.pem"
expect_eq "exit code of gate over https with --ca-file" 0 "$RC"
expect_contains "gate over https" "$OUT" "PASS: 5 targets green for 24h"
ep_run gate-https-untrusted gate --agent "https://127.0.0.1:$TLS_PORT" --for 24h
expect_eq "exit code of gate over https without --ca-file" 2 "$RC"
expect_contains "stderr of gate over https without --ca-file" "$ERR" "cannot verify the agent's certificate"
expect_contains "stderr of gate over https without --ca-file" "$ERR" "give it with --ca-file"

ep_run gate-no-ca gate --agent "https://127.0.0.1:$TLS_PORT" --for 24h --ca-file "$EP_TMP/none.pem"
expect_eq "exit code of gate with a missing --ca-file" 2 "$RC"
expect_contains "stderr of gate with a missing --ca-file" "$ERR" "cannot read the CA file $EP_TMP/none.pem"

step "usage errors: exit 2 and point at the command's help"
ep_run usage deploy --agent "$AGENT" --service shop
expect_eq "exit code of deploy without --token-file and --version" 2 "$RC"
expect_contains "stderr of a usage error" "$ERR" "deploy needs --token-file"
expect_contains "stderr of a usage error" "$ERR" "Try 'envprobe deploy --help'."
ep_run help-deploy deploy --help
expect_eq "exit code of deploy --help" 0 "$RC"
expect_contains "deploy --help" "$OUT" "usage: envprobe deploy"
ep_run help-gate help gate
expect_eq "exit code of help gate" 0 "$RC"
expect_contains "help gate" "$OUT" "usage: envprobe gate"

finish test_cli_control
