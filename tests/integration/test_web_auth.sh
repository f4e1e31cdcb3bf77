#!/usr/bin/env bash
# --web.config.file: with basic_auth_users (a bcrypt hash made here), every path of the agent
# answers 401 with a Basic challenge unless the right user and password come along; unknown
# paths answer 404 only to authenticated clients; Prometheus with basic_auth scrapes it (up 1).
# A web config with an unknown key or a plain-text password is refused at start with a clear
# error, as is a tls_server_config whose key does not match its certificate (TLS itself:
# test_web_tls.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/web_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"
require_cmd prometheus "Debian package prometheus"

if ! grep -q webConfigFile "$ENVPROBE_SOURCE_DIR/probe/cmd/run_command.cpp"; then
  echo "SKIP: probe/cmd/run_command.cpp does not pass --web.config.file to the server yet"
  exit 0
fi

user=prometheus
password="pw-$RANDOM$RANDOM"
hash=$("$EP_PY" -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 6)))' "$password")
[[ "$hash" == '$2b$06$'* ]] || die "fixture: python3 crypt made no bcrypt hash: '$hash'"
web_config="$EP_TMP/web.yml"
printf 'basic_auth_users:\n  %s: %s\n' "$user" "'$hash'" >"$web_config"

config="$EP_TMP/agent.yaml"
web_agent_config "$config"
web_port=$(free_port)
step "envprobe run with basic auth on 127.0.0.1:$web_port"
web_agent_start "$web_port" "$config" --web.config.file="$web_config"
base="http://127.0.0.1:$web_port"

# status PATH [CURL ARGS...]: the HTTP status of GET PATH.
status() {
  local path="$1"
  shift
  curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@" "$base$path" || echo "<curl failed>"
}
for path in /metrics /-/healthy / /api/v1/targets /metricsfoo; do
  expect_eq "GET $path without credentials" 401 "$(status "$path")"
  expect_eq "GET $path with a wrong password" 401 "$(status "$path" -u "$user:wrong")"
  expect_eq "GET $path as an unknown user" 401 "$(status "$path" -u "nobody:$password")"
done
for path in /metrics /-/healthy / /api/v1/targets; do
  expect_eq "GET $path with the right credentials" 200 "$(status "$path" -u "$user:$password")"
done
for path in /metricsfoo /-/healthy/x /api/v1/targetsx /index.html; do
  expect_eq "GET $path (not a route) with the right credentials" 404 "$(status "$path" -u "$user:$password")"
done
challenge=$(curl -s --max-time 5 -D - -o /dev/null "$base/metrics" | tr -d '\r' |
  grep -i '^WWW-Authenticate:' || echo "<none>")
expect_eq "challenge on 401" 'WWW-Authenticate: Basic realm="envprobe", charset="UTF-8"' "$challenge"
curl -sf --max-time 5 -u "$user:$password" -o "$EP_TMP/metrics.txt" "$base/metrics" ||
  fail "authenticated scrape failed"
grep -q '^envprobe_' "$EP_TMP/metrics.txt" && pass "authenticated scrape has envprobe_* series" ||
  fail "authenticated scrape has no envprobe_* series"

step "Prometheus scraping with basic_auth"
prom_port=$(free_port)
printf '%s' "$password" >"$EP_TMP/password"
cat >"$EP_TMP/prometheus.yml" <<YAML
global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: envprobe
    basic_auth: { username: $user, password_file: $EP_TMP/password }
    static_configs: [ { targets: ["127.0.0.1:$web_port"] } ]
YAML
start_bg prometheus prometheus --config.file="$EP_TMP/prometheus.yml" \
  --web.listen-address="127.0.0.1:$prom_port" --storage.tsdb.path="$EP_TMP/tsdb"
wait_tcp prometheus "$BG_PID" 127.0.0.1 "$prom_port" 20
up=""
deadline=$((SECONDS + 20))
while [[ "$up" != 1 ]] && ((SECONDS < deadline)); do
  sleep 0.5
  up=$(curl -sf --max-time 3 "http://127.0.0.1:$prom_port/api/v1/query?query=up%7Bjob%3D%22envprobe%22%7D" |
    jq_py '",".join(r["value"][1] for r in d["data"]["result"])' 2>/dev/null || true)
done
expect_eq "Prometheus' up for the agent behind basic auth" 1 "$up"

# refused WHAT WEB_CONFIG_TEXT EXPECTED_ERROR: the agent must exit 1 naming the problem.
refused() { web_config_refused "$EP_TMP" "$@"; }

step "refused web configs"
for name in agent other; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$EP_TMP/$name.key" -out "$EP_TMP/$name.crt" 2>/dev/null || die "fixture: openssl req failed"
done
refused tls "tls_server_config: { cert_file: $EP_TMP/agent.crt, key_file: $EP_TMP/other.key }
" "other.key\\\" does not match cert_file"
refused typo "basic_auth_user:
  $user: '$hash'
" "typo.yml:1:1: web config: unknown key \"basic_auth_user\""
refused plain "basic_auth_users: { $user: $password }
" "basic_auth_users.$user: not a bcrypt hash"

grep -q 'all interfaces' "$EP_TMP/envprobe.log" &&
  fail "a warning about all interfaces although the agent listens on 127.0.0.1 with a web config" ||
  pass "no warning about all interfaces for 127.0.0.1 with a web config"

finish test_web_auth
