#!/usr/bin/env bash
# The forgotten hostname: nginx has a virtual host for the internal name only and answers
# "400 Invalid Hostname" for anything else. The catalog lists both names of the service, pinned
# to nginx's address; `envprobe once` must pass the internal name and fail the public one with
# reason http_status and status 400, and exit 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$NGINX" "Debian package nginx-light"

port=$(free_port)
internal=shop.at.test
public=shop-at.example.test

step "nginx on 127.0.0.1:$port: a server block for $internal only, default_server 400 otherwise"
nginx_start nginx "
  server {
    listen 127.0.0.1:$port default_server;
    server_name _;
    return 400 \"Invalid Hostname\n\";
  }
  server {
    listen 127.0.0.1:$port;
    server_name $internal;
    location / { return 200 \"welcome to the shop\n\"; }
  }" "$port"

step "fixture: nginx answers by Host header (curl)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $internal" "http://127.0.0.1:$port/")
[[ "$code" == 200 ]] || die "fixture: nginx answered $code for Host $internal, expected 200"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $public" "http://127.0.0.1:$port/")
[[ "$code" == 400 ]] || die "fixture: nginx answered $code for Host $public, expected 400"
pass "nginx: $internal -> 200, $public -> 400"
: >"$EP_TMP/nginx/access.log"

config="$EP_TMP/agent.yaml"
cat >"$config" <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 5s, timeout: 2s }
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: shop
    hostnames:
      internal: ["shop.{env}.test"]
      public: { at: [$public], prod: [] }
    backends: { at: ["127.0.0.1:$port"] }
    checks:
      - name: home
        http:
          scheme: http
          port: $port
          path: /
          expect: { status: [200-299], body_contains: ["welcome"] }
EOF

step "envprobe check-config"
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

step "envprobe once: internal passes, public fails with 400"
ep_once "$config"
expect_eq "exit code" 1 "$ONCE_RC"
expect_eq "number of results" 2 "$(jq_py 'len(d)' "$ONCE_JSON")"

expect_eq "$internal visibility" internal "$(target_field visibility hostname=$internal)"
expect_eq "$internal env/service/check" "at/shop/home" \
  "$(target_field env hostname=$internal)/$(target_field service hostname=$internal)/$(target_field check hostname=$internal)"
expect_eq "$internal success" true "$(target_field success hostname=$internal)"
expect_eq "$internal reason" none "$(target_field reason hostname=$internal)"
expect_eq "$internal status_code" 200 "$(target_field status_code hostname=$internal)"
expect_num "$internal duration_seconds" "$(target_field duration_seconds hostname=$internal)" ">" 0
expect_one_of "$internal address (the pinned backend)" "$(target_field address hostname=$internal)" \
  "127.0.0.1:$port" 127.0.0.1

expect_eq "$public visibility" public "$(target_field visibility hostname=$public)"
expect_eq "$public success" false "$(target_field success hostname=$public)"
expect_eq "$public reason" http_status "$(target_field reason hostname=$public)"
expect_eq "$public status_code" 400 "$(target_field status_code hostname=$public)"
expect_one_of "$public address (the pinned backend)" "$(target_field address hostname=$public)" \
  "127.0.0.1:$port" 127.0.0.1

step "nginx saw one request per hostname, each with its own Host header"
log="$(cat "$EP_TMP/nginx/access.log")"
sed 's/^/   /' "$EP_TMP/nginx/access.log"
expect_eq "requests with Host $internal answered 200" 1 "$(grep -c "^host=$internal .*status=200 " <<<"$log" || true)"
expect_eq "requests with Host $public answered 400" 1 "$(grep -c "^host=$public .*status=400 " <<<"$log" || true)"

finish "forgotten hostname (http_hostnames)"
