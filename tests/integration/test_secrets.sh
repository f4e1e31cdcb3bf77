#!/usr/bin/env bash
# Secrets of http checks (bearer_token_file, headers_from_file, headers_from_env,
# query_from_file, query_from_env) against real servers on loopback (hostile_server.py, which logs
# what it receives), every target pinned to 127.0.0.1:
#   1. each kind of secret arrives at the target, with the check's own `headers:`;
#   2. neither the secrets nor a literal query value in the check's `path` appear anywhere the
#      agent shows or logs a target: GET /api/v1/targets, the status page, /metrics, the debug
#      log (logfmt and JSON), `once` (JSON and table), `check-config --list-targets`, including
#      a failure detail that quotes a redirect's Location (with user info and a query);
#   3. a redirect to another origin (another port of the same name, or 127.0.0.1 on another
#      port) carries neither the secret headers nor `headers:`; a same-origin redirect keeps them;
#   4. check-config, run and once refuse a config whose secret file is missing or whose variable
#      is unset (or empty, or whose value would smuggle a header), naming file:line and the file
#      or variable, and never quoting a secret's value.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$EP_LIB_DIR/hostile_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"

zone=secrets.test
mark=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n') # makes every secret unique to this run
sec_file_header="fileheader-$mark"
sec_bearer="bearer-$mark"
sec_env_header="envheader-$mark"
sec_query_file="qfile-$mark"
sec_query_env="qenv-$mark"
sec_literal="literal-$mark"
secrets=("$sec_file_header" "$sec_bearer" "$sec_env_header" "$sec_query_file" "$sec_query_env"
  "$sec_literal")

mkdir -p "$EP_TMP/secrets"
printf '%s\n' "$sec_file_header" >"$EP_TMP/secrets/api-key" # the newline is not part of it
printf '%s\n' "$sec_bearer" >"$EP_TMP/secrets/token"
printf '%s' "$sec_query_file" >"$EP_TMP/secrets/qsig"
export ENVPROBE_IT_TENANT="$sec_env_header" ENVPROBE_IT_QSIG="$sec_query_env"

hostile_start a
port_a=$HS_PORT
hostile_start b
port_b=$HS_PORT
step "origin A 127.0.0.1:$port_a, other origin B 127.0.0.1:$port_b; secrets end in $mark"

urlenc() { "$EP_PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# service NAME PATH [MAX_REDIRECTS]: pinned to A, every second, with every kind of secret
# (files relative to the config, and absolute) and a custom header.
service() {
  cat <<EOF
  - name: $1
    hostnames: { internal: [$1.$zone], public: [] }
    backends: { at: ["127.0.0.1:$port_a"] }
    checks:
      - name: home
        interval: 1s
        timeout: 1s
        http:
          scheme: http
          port: $port_a
          path: "$2"
          max_redirects: ${3:-3}
          headers: { X-Custom: visible-custom }
          bearer_token_file: secrets/token
          headers_from_file: { X-Api-Key: "$EP_TMP/secrets/api-key" }
          headers_from_env: { X-Tenant: ENVPROBE_IT_TENANT }
          query_from_file: { qfile: secrets/qsig }
          query_from_env: { qenv: ENVPROBE_IT_QSIG }
          expect: { status: [200] }
EOF
}
config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
$(loopback_dns_yaml)
environments: { at: { tier: nonprod } }
services:
$(service direct "/seen/direct?token=$sec_literal")
$(service same "/redirect?to=$(urlenc /seen/same)&token=$sec_literal")
$(service cross-port "/redirect?to=$(urlenc "http://cross-port.$zone:$port_b/seen/cross-port")")
$(service cross-host "/redirect?to=$(urlenc "http://127.0.0.1:$port_b/seen/cross-host")")
$(service refused "/redirect?to=$(urlenc "http://user:$sec_literal@refused.$zone:$port_a/seen/refused?token=$sec_literal")" 0)
EOF
names=(direct same cross-port cross-host refused)

# --- 1 and 3: what the servers received --------------------------------------------------------

# received SERVER PATH FIELD: the values of header FIELD (or query parameter q:NAME) in requests
# SERVER logged for PATH (query excluded), sorted and unique; "-" where absent.
received() {
  "$EP_PY" - "$EP_TMP/$1.requests" "$2" "$3" <<'PY'
import json, sys, urllib.parse
log, path, field = sys.argv[1:4]
seen = set()
for line in open(log):
    r = json.loads(line)
    url = urllib.parse.urlsplit(r["path"])
    if url.path != path:
        continue
    if field.startswith("q:"):
        values = urllib.parse.parse_qs(url.query).get(field[2:], ["-"])
    else:
        values = [next((v for k, v in r["headers"] if k.lower() == field.lower()), "-")]
    seen.update(values)
print(" ".join(sorted(seen)) or "<no requests>")
PY
}

step "envprobe run twice on the same config: --log.format=logfmt and json, both --log.level=debug"
ep_run() { # NAME WEB_PORT LOG_FORMAT
  start_bg_direct "$1" "$ENVPROBE" run --config.file="$config" --web.listen-address="127.0.0.1:$2" \
    --log.level=debug --log.format="$3"
}
port_logfmt=$(free_port)
port_json=$(free_port)
ep_run agent-logfmt "$port_logfmt" logfmt
pid_logfmt=$BG_PID
ep_run agent-json "$port_json" json
pid_json=$BG_PID
AGENT_WEB="http://127.0.0.1:$port_logfmt"
# Both agents have probed every target twice once each last-run timestamp is >= 1 s after the
# first one seen.
deadline=$((SECONDS + 15))
for web in "$AGENT_WEB" "http://127.0.0.1:$port_json"; do
  first=""
  while :; do
    curl -s --max-time 2 -o "$EP_TMP/metrics.txt" "$web/metrics" || : >"$EP_TMP/metrics.txt"
    stamps=$(metric_values "$EP_TMP/metrics.txt" envprobe_probe_last_run_timestamp_seconds | sort -n)
    if [[ $(grep -c . <<<"$stamps" || true) == "${#names[@]}" ]]; then
      oldest=$(head -n1 <<<"$stamps")
      first=${first:-$oldest}
      "$EP_PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) + 1 else 1)' \
        "$oldest" "$first" && break
    fi
    ((SECONDS < deadline)) || die "$web has not probed every target twice within 15 s"
    sleep 0.2
  done
done
scrape
targets_json
expect_eq "GET /api/v1/targets is a JSON array of objects" yes "$TARGETS_VALID"
curl -s --max-time 5 -o "$EP_TMP/status.html" "$AGENT_WEB/" || : >"$EP_TMP/status.html"
for n in "${names[@]}"; do
  echo "   $n: success=$(target_api success "$n.$zone") reason=$(target_api reason "$n.$zone")" \
    "detail=$(target_api detail "$n.$zone" | head -c 160)"
done

step "1. every kind of secret arrives at the target, with its own headers"
expect_eq "success of direct" true "$(target_api success "direct.$zone")"
expect_eq "X-Api-Key (headers_from_file) at A" "$sec_file_header" "$(received a /seen/direct X-Api-Key)"
expect_eq "Authorization (bearer_token_file) at A" "Bearer $sec_bearer" \
  "$(received a /seen/direct Authorization)"
expect_eq "X-Tenant (headers_from_env) at A" "$sec_env_header" "$(received a /seen/direct X-Tenant)"
expect_eq "query qfile (query_from_file) at A" "$sec_query_file" "$(received a /seen/direct q:qfile)"
expect_eq "query qenv (query_from_env) at A" "$sec_query_env" "$(received a /seen/direct q:qenv)"
expect_eq "query token (literal in path) at A" "$sec_literal" "$(received a /seen/direct q:token)"
expect_eq "X-Custom (headers) at A" visible-custom "$(received a /seen/direct X-Custom)"

step "3. a same-origin redirect keeps the headers; another origin gets none of them"
for n in same cross-port cross-host; do
  expect_eq "success of $n" true "$(target_api success "$n.$zone")"
done
expect_eq "X-Api-Key on the first hop of same (to /redirect)" "$sec_file_header" \
  "$(received a /redirect X-Api-Key)"
expect_eq "X-Api-Key at A after the same-origin redirect" "$sec_file_header" "$(received a /seen/same X-Api-Key)"
expect_eq "Authorization at A after the same-origin redirect" "Bearer $sec_bearer" \
  "$(received a /seen/same Authorization)"
expect_eq "X-Tenant at A after the same-origin redirect" "$sec_env_header" "$(received a /seen/same X-Tenant)"
expect_eq "X-Custom at A after the same-origin redirect" visible-custom "$(received a /seen/same X-Custom)"
for n in cross-port cross-host; do
  expect_num "requests for /seen/$n at B" "$(grep -c "\"/seen/$n\"" "$EP_TMP/b.requests" || true)" ">=" 2
  for h in X-Api-Key Authorization X-Tenant X-Custom; do
    expect_eq "$h at B after the redirect of $n" "-" "$(received b "/seen/$n" "$h")"
  done
done
expect_eq "Host of the cross-port hop at B" "cross-port.$zone:$port_b" \
  "$(received b /seen/cross-port Host)"
leaked=()
for s in "${secrets[@]}"; do grep -qF -- "$s" "$EP_TMP/b.requests" && leaked+=("$s"); done
expect_eq "secret values anywhere in what B received (path or headers)" "" "${leaked[*]:-}"

step "2. no secret and no literal query value anywhere the agent shows or logs a target"
expect_eq "reason of refused (max_redirects 0)" redirects "$(target_api reason "refused.$zone")"
expect_eq "detail of refused quotes the Location, user info and query redacted" \
  "more than max_redirects (0) redirects, last to http://<redacted>@refused.$zone:$port_a/seen/refused?token=<redacted>" \
  "$(target_api detail "refused.$zone")"
expect_eq "url of direct in /api/v1/targets" \
  "http://direct.$zone:$port_a/seen/direct?token=<redacted>" "$(target_api url "direct.$zone")"

"$ENVPROBE" check-config "$config" --list-targets >"$EP_TMP/list-targets.out" 2>&1 ||
  fail "check-config --list-targets rejected the config: $(cat "$EP_TMP/list-targets.out")"
if grep -qF "http://direct.$zone:$port_a/seen/direct?token=<redacted>" "$EP_TMP/list-targets.out"; then
  pass "check-config --list-targets shows the URL of direct redacted"
else
  fail "check-config --list-targets does not show direct's URL redacted: $(grep direct "$EP_TMP/list-targets.out")"
fi

ep_once "$config"
expect_eq "once exit code (refused fails)" 1 "$ONCE_RC"
expect_eq "once: success of direct" true "$(target_field success hostname="direct.$zone")"
expect_eq "once: url of same" "http://same.$zone:$port_a/redirect?to=<redacted>&token=<redacted>" \
  "$(target_field url hostname="same.$zone")"
cp "$ONCE_JSON" "$EP_TMP/once-json.out"
once_rc=0
timeout -k 5 30 "$ENVPROBE" once --config.file="$config" --log.level=debug --log.format=json \
  >"$EP_TMP/once-table.out" 2>"$EP_TMP/once-table.err" || once_rc=$?
expect_eq "once --format=table exit code" 1 "$once_rc"
timeout -k 5 30 "$ENVPROBE" once --config.file="$config" --format=json --log.level=debug \
  >/dev/null 2>"$EP_TMP/once-logfmt.err" || true

stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait_exit "$1" 10; }
stop_pid "$pid_json" # so that both logs are complete
stop_pid "$pid_logfmt"
if grep -q 'probe failed' "$EP_TMP/agent-logfmt.log" && grep -q '"probe failed"' "$EP_TMP/agent-json.log"; then
  pass "both debug logs carry the failure of refused"
else
  fail "a debug log lacks 'probe failed' for refused: the check would prove nothing"
fi

# no_secrets WHAT FILE MUST_CONTAIN: FILE shows MUST_CONTAIN (so the target is there at all) and
# none of the secret values.
no_secrets() {
  local what="$1" file="$2" must="$3" s found=()
  [[ -z "$must" ]] || grep -qF -- "$must" "$file" || { fail "$what does not show '$must' ($(wc -c <"$file") bytes)"; return; }
  for s in "${secrets[@]}"; do grep -qF -- "$s" "$file" && found+=("$s"); done
  if ((${#found[@]} == 0)); then
    pass "$what: no secret value"
  else
    fail "$what leaks ${found[*]}: $(grep -hF -e "${found[0]}" "$file" | head -n 3)"
  fi
}
no_secrets "GET /api/v1/targets" "$EP_TMP/targets.json" "<redacted>"
no_secrets "status page /" "$EP_TMP/status.html" "refused.$zone"
no_secrets "/metrics" "$EP_TMP/metrics.txt" "direct.$zone"
no_secrets "agent log (logfmt, debug)" "$EP_TMP/agent-logfmt.log" "<redacted>"
no_secrets "agent log (json, debug)" "$EP_TMP/agent-json.log" "<redacted>"
no_secrets "once --format=json" "$EP_TMP/once-json.out" "<redacted>"
no_secrets "once --format=json stderr" "$EP_TMP/once.err" "" # may be empty
no_secrets "once table" "$EP_TMP/once-table.out" "<redacted>"
no_secrets "once table stderr (json log, debug)" "$EP_TMP/once-table.err" "refused"
no_secrets "once stderr (logfmt log, debug)" "$EP_TMP/once-logfmt.err" "refused"
no_secrets "check-config --list-targets" "$EP_TMP/list-targets.out" "<redacted>"

# --- 4: refusals -----------------------------------------------------------------------------

step "4. a missing secret file or an unset variable is refused, naming where, quoting no secret"
bad_secret="badsecret-$mark"
printf '%s\r\nX-Injected: %s\n' "$bad_secret" "$bad_secret" >"$EP_TMP/secrets/smuggle"
bad="$EP_TMP/bad.yaml"
cat >"$bad" <<EOF
environment: at
$(loopback_dns_yaml)
environments: { at: { tier: nonprod } }
services:
  - name: bad
    hostnames: { internal: [bad.$zone], public: [] }
    backends: { at: ["127.0.0.1:$port_a"] }
    checks:
      - name: home
        http:
          scheme: http
          port: $port_a
          path: "/seen?token=$sec_literal"
          bearer_token_file: secrets/no-such-token
          headers_from_file:
            X-Api-Key: $EP_TMP/secrets/api-key
            X-Missing: no-such-key
            X-Smuggle: secrets/smuggle
          headers_from_env:
            X-Tenant: ENVPROBE_IT_TENANT
            X-Unset: ENVPROBE_IT_UNSET_$mark
            X-Empty: ENVPROBE_IT_EMPTY
          query_from_file:
            qfile: secrets/qsig
            qmissing: no-such-qsig
          query_from_env:
            qenv: ENVPROBE_IT_QSIG
            qunset: ENVPROBE_IT_QUNSET_$mark
EOF
line_of() { grep -n -F -- "$1" "$bad" | head -n1 | cut -d: -f1; }
# expected: "KEY|LINE|TEXT" for each error: the key on LINE, and what its message must say.
expected=(
  "bearer_token_file|$(line_of bearer_token_file)|\"$EP_TMP/secrets/no-such-token\": no such file"
  "X-Missing|$(line_of X-Missing)|\"$EP_TMP/no-such-key\": no such file"
  "X-Smuggle|$(line_of X-Smuggle)|control character"
  "X-Unset|$(line_of X-Unset)|environment variable ENVPROBE_IT_UNSET_$mark is not set"
  "X-Empty|$(line_of X-Empty)|environment variable ENVPROBE_IT_EMPTY is empty"
  "qmissing|$(line_of qmissing)|\"$EP_TMP/no-such-qsig\": no such file"
  "qunset|$(line_of qunset)|environment variable ENVPROBE_IT_QUNSET_$mark is not set"
)
secrets+=("$bad_secret")
export ENVPROBE_IT_EMPTY=""
run_port=$(free_port)
for cmd in check-config run once; do
  out="$EP_TMP/refuse-$cmd.out"
  rc=0
  case $cmd in
    check-config) timeout -k 5 20 "$ENVPROBE" check-config "$bad" >"$out" 2>&1 || rc=$? ;;
    run) timeout -k 5 20 "$ENVPROBE" run --config.file="$bad" \
      --web.listen-address="127.0.0.1:$run_port" >"$out" 2>&1 || rc=$? ;;
    once) timeout -k 5 20 "$ENVPROBE" once --config.file="$bad" >"$out" 2>&1 || rc=$? ;;
  esac
  echo "   $cmd said:"
  sed 's/^/     /' "$out"
  expect_one_of "$cmd exit code on a broken secret (non-zero, not a timeout)" "$rc" 1 2
  for e in "${expected[@]}"; do
    IFS='|' read -r key line text <<<"$e"
    if grep -F -- "$bad:$line:" "$out" | grep -F -- ": error: " | grep -qF -- "$text"; then
      pass "$cmd names bad.yaml:$line ($key): $text"
    else
      fail "$cmd does not name bad.yaml:$line ($key) with '$text'"
    fi
  done
  no_secrets "$cmd refusal" "$out" "error"
done

finish "secrets reach their origin only and are never shown"
