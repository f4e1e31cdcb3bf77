#!/usr/bin/env bash
# ctest-labels: hostile
# TLS verdicts and certificate facts against nginx serving certificates made here with openssl:
# a valid leaf signed by a test CA passes; an expired leaf, a leaf for another name and a
# self-signed leaf fail with reason tls and curl's words for each. Every target still reports the
# expiry of the certificate it was shown (for the expired one, a time in the past). Without a
# ca_file the system CAs do not trust the test CA; a missing ca_file fails with curl's message.
# The CA stores are shared between probes (probe/io/ca_store.hpp): a running agent follows a CA
# file replaced under it, and still makes a full handshake (no session reuse) for every probe.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"
require_cmd "$NGINX" "Debian package nginx-light"

pki="$EP_TMP/pki"
mkdir -p "$pki/newcerts"
: >"$pki/index.txt"
echo 1000 >"$pki/serial"
cat >"$pki/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $pki
database = $pki/index.txt
new_certs_dir = $pki/newcerts
serial = $pki/serial
certificate = $pki/ca.pem
private_key = $pki/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
commonName = supplied
EOF

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

# leaf NAME SAN_DNS [openssl ca date options...]: key + CSR, signed by the test CA.
leaf() {
  local name="$1" san="$2"
  shift 2
  ec_key "$pki/$name.key"
  openssl req -new -key "$pki/$name.key" -subj "/CN=$san" -out "$pki/$name.csr"
  cat >"$pki/$name.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$san
EOF
  openssl ca -batch -notext -config "$pki/ca.cnf" -in "$pki/$name.csr" -out "$pki/$name.pem" \
    -extfile "$pki/$name.ext" "$@" 2>"$pki/$name.ca.log" ||
    { cat "$pki/$name.ca.log" >&2; die "openssl ca could not sign the $name certificate"; }
}

not_after() { # PEM -> unix seconds
  date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s
}

step "certificates: a CA, and leaves good (valid), expired, wrongname (for other.test), selfsigned"
ec_key "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=envprobe integration test CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$pki/ca.pem"
leaf good good.test -days 365
leaf expired expired.test \
  -startdate "$(date -u -d '-400 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '-35 days' +%Y%m%d%H%M%SZ)"
leaf wrongname other.test -days 365
ec_key "$pki/other-ca.key"
openssl req -x509 -new -key "$pki/other-ca.key" -subj "/CN=envprobe integration test other CA" \
  -days 3650 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
  -out "$pki/other-ca.pem"
ec_key "$pki/selfsigned.key"
openssl req -x509 -new -key "$pki/selfsigned.key" -subj "/CN=selfsigned.test" -days 365 \
  -addext "subjectAltName=DNS:selfsigned.test" -addext "basicConstraints=critical,CA:FALSE" \
  -out "$pki/selfsigned.pem"

now=$(date +%s)
declare -A host=([good]=good.test [expired]=expired.test [wrongname]=wrongname.test [selfsigned]=selfsigned.test)
declare -A expiry port
for c in good expired wrongname selfsigned; do
  expiry[$c]=$(not_after "$pki/$c.pem")
  port[$c]=$(free_port)
  echo "   $c: ${host[$c]} -> 127.0.0.1:${port[$c]}, certificate $(openssl x509 -in "$pki/$c.pem" -noout -subject -enddate | tr '\n' ' ')(${expiry[$c]})"
done
((expiry[expired] < now)) || die "fixture: the expired certificate ends at ${expiry[expired]}, not before now ($now)"
((expiry[good] > now)) || die "fixture: the good certificate ends at ${expiry[good]}, not after now ($now)"
openssl verify -CAfile "$pki/ca.pem" "$pki/good.pem" >/dev/null || die "fixture: good.pem does not verify against the CA"

# tls.log: one line per request with whether its TLS session was resumed ("r") or new (".").
servers="
  log_format tls 'host=\$host reused=\$ssl_session_reused status=\$status';"
for c in good expired wrongname selfsigned; do
  servers+="
  server {
    listen 127.0.0.1:${port[$c]} ssl;
    server_name _;
    ssl_certificate $pki/$c.pem;
    ssl_certificate_key $pki/$c.key;
    access_log $EP_TMP/nginx/access.log probe;
    access_log $EP_TMP/nginx/tls.log tls;
    location / { return 200 \"welcome over tls ($c)\n\"; }
  }"
done
step "nginx: one TLS server per certificate"
nginx_start nginx "$servers" "${port[good]}" "${port[expired]}" "${port[wrongname]}" "${port[selfsigned]}"

step "fixture: curl --cacert CA accepts only the good certificate"
# curl_tls CASE: "<curl exit> <http code> <error>" for https://HOST:PORT/ pinned to 127.0.0.1.
curl_tls() {
  local c="$1" rc=0 out
  out=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$pki/ca.pem" \
    --resolve "${host[$c]}:${port[$c]}:127.0.0.1" "https://${host[$c]}:${port[$c]}/" 2>"$EP_TMP/curl.err") || rc=$?
  echo "$rc $out $(tr '\n' ' ' <"$EP_TMP/curl.err")"
}
seen=$(curl_tls good)
[[ "$seen" == "0 200 "* ]] || die "fixture: curl to good.test expected success with 200, saw: $seen"
pass "curl good: $seen"
for c in expired wrongname selfsigned; do
  seen=$(curl_tls "$c")
  case "$c" in
    expired) want="certificate has expired" ;;
    wrongname) want="subject name" ;;
    selfsigned) want="self-signed certificate" ;;
  esac
  [[ "$seen" == "60 "*"$want"* ]] || die "fixture: curl to ${host[$c]} expected exit 60 with '$want', saw: $seen"
  pass "curl $c: $seen"
done
: >"$EP_TMP/nginx/access.log"

config="$EP_TMP/agent.yaml"
{
  cat <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 5s, timeout: 3s }
environments: { at: { tier: nonprod } }
services:
EOF
  for c in good expired wrongname selfsigned; do
    cat <<EOF
  - name: tls-$c
    hostnames:
      internal: [${host[$c]}]
      public: []
    backends: { at: ["127.0.0.1:${port[$c]}"] }
    checks:
      - name: home
        http:
          scheme: https
          port: ${port[$c]}
          path: /
          tls: { ca_file: $pki/ca.pem }
          expect: { status: [200], body_contains: ["welcome"] }
EOF
    [[ $c == good ]] || continue
    # The good server again: with the system CAs only (no ca_file), and with a missing ca_file.
    cat <<EOF
      - name: system
        http: { scheme: https, port: ${port[$c]}, path: /, expect: { status: [200] } }
      - name: missingca
        http:
          scheme: https
          port: ${port[$c]}
          path: /
          tls: { ca_file: $pki/missing.pem }
          expect: { status: [200] }
EOF
  done
} >"$config"

step "envprobe check-config"
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

step "envprobe once"
ep_once "$config"
expect_eq "exit code" 1 "$ONCE_RC"
expect_eq "number of results" 6 "$(jq_py 'len(d)' "$ONCE_JSON")"
# The good server was asked by three checks; only the one trusting the test CA got an answer.

h=${host[good]}
expect_eq "$h success" true "$(target_field success service=tls-good check=home)"
expect_eq "$h reason" none "$(target_field reason service=tls-good check=home)"
expect_eq "$h status_code" 200 "$(target_field status_code service=tls-good check=home)"
declare -A detail=(
  [expired]="SSL certificate problem: certificate has expired"
  [wrongname]="SSL: no alternative certificate subject name matches target host name 'wrongname.test'"
  [selfsigned]="SSL certificate problem: self-signed certificate"
  [system]="SSL certificate problem: unable to get local issuer certificate"
  [missingca]="error setting certificate file: $pki/missing.pem")
declare -A which=([expired]="service=tls-expired check=home"
  [wrongname]="service=tls-wrongname check=home" [selfsigned]="service=tls-selfsigned check=home"
  [system]="service=tls-good check=system" [missingca]="service=tls-good check=missingca")
for c in expired wrongname selfsigned system missingca; do
  # shellcheck disable=SC2086 # two KEY=VALUE words
  {
    expect_eq "$c success" false "$(target_field success ${which[$c]})"
    expect_eq "$c reason" tls "$(target_field reason ${which[$c]})"
    expect_eq "$c status_code" 0 "$(target_field status_code ${which[$c]})"
    expect_eq "$c detail" "${detail[$c]}" "$(target_field detail ${which[$c]})"
  }
done
for c in good expired wrongname selfsigned; do
  h=${host[$c]}
  seen=$(target_field ssl_earliest_cert_expiry service="tls-$c" check=home)
  expect_num "$h ssl_earliest_cert_expiry (the certificate's notAfter)" "$seen" "==" "${expiry[$c]}"
done
expect_num "expired.test ssl_earliest_cert_expiry is in the past" \
  "$(target_field ssl_earliest_cert_expiry service=tls-expired check=home)" "<" "$now"

step "nginx saw good.test with SNI and Host good.test (pinning keeps both)"
log="$(cat "$EP_TMP/nginx/access.log")"
sed 's/^/   /' "$EP_TMP/nginx/access.log"
expect_eq "requests to good.test with host and SNI good.test" 1 \
  "$(grep -c '^host=good.test sni=good.test status=200 ' <<<"$log" || true)"
expect_eq "requests answered for the failing certificates" 0 \
  "$(grep '^host=' <<<"$log" | grep -vc '^host=good.test ' || true)"

step "a running agent follows its CA file replaced under it, with a full handshake per probe"
rotating="$pki/rotating-ca.pem"
cp "$pki/other-ca.pem" "$rotating"
live="$EP_TMP/live.yaml"
cat >"$live" <<EOF
environment: at
$(loopback_dns_yaml)
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod } }
services:
  - name: tls-rotating
    hostnames:
      internal: [${host[good]}]
      public: []
    backends: { at: ["127.0.0.1:${port[good]}"] }
    checks:
      - name: home
        http: { scheme: https, port: ${port[good]}, path: /, tls: { ca_file: $rotating }, expect: { status: [200] } }
EOF
: >"$EP_TMP/nginx/tls.log"
agent_port=$(free_port)
start_bg_direct agent "$ENVPROBE" --config.file="$live" --web.listen-address="127.0.0.1:$agent_port" run
agent_pid=$BG_PID
wait_tcp agent "$agent_pid" 127.0.0.1 "$agent_port"
# wait_success WANT WHAT: probe_success of the target, polled until it is WANT (at most 15 s:
# the CA file is looked at again every 5 s, probes run every 1 s).
wait_success() {
  local want="$1" deadline=$((SECONDS + 15)) seen=""
  while ((SECONDS < deadline)); do
    curl -s "http://127.0.0.1:$agent_port/metrics" >"$EP_TMP/live.prom"
    seen=$(metric_values "$EP_TMP/live.prom" probe_success service=tls-rotating | head -n 1)
    [[ "$seen" == "$want" ]] && break
    sleep 0.2
  done
  expect_eq "$2" "$want" "$seen"
}
wait_success 0 "ca_file holds another CA: probe_success"
cp "$pki/ca.pem" "$rotating.next" && mv "$rotating.next" "$rotating"
wait_success 1 "ca_file replaced by the test CA, no restart: probe_success"
cat "$pki/other-ca.pem" >"$rotating" # rewritten in place this time
wait_success 0 "ca_file back to the other CA: probe_success"
kill -TERM "$agent_pid"
wait_exit "$agent_pid" 10
expect_eq "agent exit code" 0 "$EXIT_CODE"
handshakes=$(grep -c "^host=${host[good]} " "$EP_TMP/nginx/tls.log" || true)
expect_num "handshakes nginx saw from the running agent" "$handshakes" ">=" 3
expect_eq "handshakes that resumed a TLS session" 0 "$(grep -c ' reused=r ' "$EP_TMP/nginx/tls.log" || true)"

finish "TLS verdicts and certificate expiry (tls)"
