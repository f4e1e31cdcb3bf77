#!/usr/bin/env bash
# ctest-labels: hostile
# TLS verdicts and certificate facts against nginx serving certificates made here with openssl:
# a valid leaf signed by a test CA passes; an expired leaf, a leaf for another name and a
# self-signed leaf fail with reason tls. Every target still reports the expiry of the
# certificate it was shown (for the expired one, a time in the past).
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

servers=""
for c in good expired wrongname selfsigned; do
  servers+="
  server {
    listen 127.0.0.1:${port[$c]} ssl;
    server_name _;
    ssl_certificate $pki/$c.pem;
    ssl_certificate_key $pki/$c.key;
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
  done
} >"$config"

step "envprobe check-config"
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

step "envprobe once"
ep_once "$config"
expect_eq "exit code" 1 "$ONCE_RC"
expect_eq "number of results" 4 "$(jq_py 'len(d)' "$ONCE_JSON")"

h=${host[good]}
expect_eq "$h success" true "$(target_field success hostname="$h")"
expect_eq "$h reason" none "$(target_field reason hostname="$h")"
expect_eq "$h status_code" 200 "$(target_field status_code hostname="$h")"
for c in expired wrongname selfsigned; do
  h=${host[$c]}
  expect_eq "$h success" false "$(target_field success hostname="$h")"
  expect_eq "$h reason" tls "$(target_field reason hostname="$h")"
  expect_eq "$h status_code" 0 "$(target_field status_code hostname="$h")"
done
for c in good expired wrongname selfsigned; do
  h=${host[$c]}
  seen=$(target_field ssl_earliest_cert_expiry hostname="$h")
  expect_num "$h ssl_earliest_cert_expiry (the certificate's notAfter)" "$seen" "==" "${expiry[$c]}"
done
expect_num "expired.test ssl_earliest_cert_expiry is in the past" \
  "$(target_field ssl_earliest_cert_expiry hostname=expired.test)" "<" "$now"

step "nginx saw good.test with SNI and Host good.test (pinning keeps both)"
log="$(cat "$EP_TMP/nginx/access.log")"
sed 's/^/   /' "$EP_TMP/nginx/access.log"
expect_eq "requests to good.test with host and SNI good.test" 1 \
  "$(grep -c '^host=good.test sni=good.test status=200 ' <<<"$log" || true)"
expect_eq "requests answered for the failing certificates" 0 \
  "$(grep '^host=' <<<"$log" | grep -vc '^host=good.test ' || true)"

finish "TLS verdicts and certificate expiry (tls)"
