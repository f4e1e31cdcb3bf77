#!/usr/bin/env bash
# blackbox_exporter's series, as its dashboards and rules read them, from the real agent probing
# nginx over HTTPS with a certificate made here (SANs, a known serial): probe_tls_version_info,
# probe_ssl_last_chain_info (fingerprint, subject, issuer, SANs, serial as openssl shows them),
# probe_ssl_last_chain_expiry_timestamp_seconds (the leaf's notAfter), probe_ip_protocol,
# probe_ip_addr_hash, probe_http_uncompressed_body_length (a gzip'd body, decoded). Every series
# carries an `instance` label that names one series only: an unpinned target, one pinned to a
# backend, two checks on one URL ("#<check>" tells them apart), address_mode all, an
# insecure_skip_verify target and a plain HTTP one. The text passes `promtool check metrics`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"
require_cmd promtool "Debian package prometheus"
require_cmd "$NGINX" "Debian package nginx-light"
require_cmd "$DNSMASQ" "Debian package dnsmasq-base"

pki="$EP_TMP/pki"
www="$EP_TMP/www"
mkdir -p "$pki" "$www"
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
not_after() { # PEM -> unix seconds
  date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s
}

step "certificates: a CA and a leaf it signs (serial 0x0A1B2C3D4E5F, three DNS SANs and an IP SAN), a self-signed one"
ec_key "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -subj "/O=Envprobe/CN=envprobe blackbox test CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$pki/ca.pem"
ec_key "$pki/leaf.key"
openssl req -new -key "$pki/leaf.key" -subj "/C=DE/O=Envprobe Test, Inc./CN=bb.test" -out "$pki/leaf.csr"
cat >"$pki/leaf.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:bb.test, DNS:multi.bb.test, IP:127.0.0.1, DNS:pin.bb.test
EOF
openssl x509 -req -in "$pki/leaf.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -set_serial 0x0A1B2C3D4E5F \
  -days 30 -sha256 -extfile "$pki/leaf.ext" -out "$pki/leaf.pem" 2>"$pki/leaf.log" ||
  { cat "$pki/leaf.log" >&2; die "openssl could not sign the leaf certificate"; }
openssl verify -CAfile "$pki/ca.pem" "$pki/leaf.pem" >/dev/null || die "fixture: leaf.pem does not verify against the CA"
ec_key "$pki/self.key"
openssl req -x509 -new -key "$pki/self.key" -subj "/CN=self.bb.test" -days 10 \
  -addext "subjectAltName=DNS:self.bb.test" -out "$pki/self.pem"

fingerprint=$(openssl x509 -in "$pki/leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
self_fingerprint=$(openssl x509 -in "$pki/self.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
serial=$(openssl x509 -in "$pki/leaf.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
leaf_expiry=$(not_after "$pki/leaf.pem")
ca_expiry=$(not_after "$pki/ca.pem")
echo "   leaf: $(openssl x509 -in "$pki/leaf.pem" -noout -subject -issuer -serial -enddate | tr '\n' ' ')"
echo "   sha256 $fingerprint, notAfter $leaf_expiry (CA $ca_expiry)"
[[ "$serial" == 0a1b2c3d4e5f ]] || die "fixture: the leaf's serial is $serial, not 0a1b2c3d4e5f"
((leaf_expiry < ca_expiry)) || die "fixture: the leaf ($leaf_expiry) must expire before the CA ($ca_expiry)"

step "nginx: HTTPS on 127.0.0.1 and 127.0.0.2, a self-signed HTTPS server and plain HTTP; gzip on"
# 20,000 bytes that gzip well: the decoded length is what probe_http_uncompressed_body_length says.
"$EP_PY" -c 'import sys; sys.stdout.write(("envprobe blackbox metrics line\n" * 1000)[:20000])' >"$www/big.txt"
body_bytes=$(stat -c %s "$www/big.txt")
tls_port=$(free_port)
self_port=$(free_port)
plain_port=$(free_port)
gzip="gzip on; gzip_types text/plain; gzip_min_length 1; root $www;"
nginx_start nginx "
  server {
    listen 127.0.0.1:$tls_port ssl;
    listen 127.0.0.2:$tls_port ssl;
    server_name _;
    ssl_certificate $pki/leaf.pem;
    ssl_certificate_key $pki/leaf.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    $gzip
  }
  server {
    listen 127.0.0.1:$self_port ssl;
    server_name _;
    ssl_certificate $pki/self.pem;
    ssl_certificate_key $pki/self.key;
    ssl_protocols TLSv1.2;
    $gzip
  }
  server {
    listen 127.0.0.1:$plain_port;
    server_name _;
    $gzip
  }" "$tls_port" "$self_port" "$plain_port"

# negotiated PORT: the TLS version nginx and OpenSSL agree on, in Go's words ("TLSv1.3" -> "TLS 1.3").
negotiated() {
  local protocol
  protocol=$(openssl s_client -brief -connect "127.0.0.1:$1" -servername bb.test </dev/null 2>&1 |
    sed -n 's/^Protocol version: *//p' | head -n 1)
  case "$protocol" in
    TLSv1.3) echo "TLS 1.3" ;;
    TLSv1.2) echo "TLS 1.2" ;;
    *) die "fixture: openssl s_client negotiated '$protocol' with nginx on port $1, expected TLSv1.3 or TLSv1.2" ;;
  esac
}
tls_version=$(negotiated "$tls_port")
self_tls_version=$(negotiated "$self_port")
pass "fixture: nginx negotiates $tls_version (and $self_tls_version where only TLS 1.2 is on)"
sizes=$(curl -sS --compressed --cacert "$pki/ca.pem" --resolve "bb.test:$tls_port:127.0.0.1" \
  -o /dev/null -w '%{size_download} %{http_code}' "https://bb.test:$tls_port/big.txt")
read -r gz_bytes code <<<"$sizes"
[[ "$code" == 200 ]] || die "fixture: curl got $code for https://bb.test:$tls_port/big.txt"
((gz_bytes < body_bytes / 4)) || die "fixture: nginx sent $gz_bytes bytes for a $body_bytes-byte body: not gzip'd"
pass "fixture: the $body_bytes-byte body travels as $gz_bytes gzip'd bytes"

dns_port=$(free_port)
step "dnsmasq on 127.0.0.1:$dns_port: bb.test -> 127.0.0.1, multi.bb.test -> 127.0.0.1 and 127.0.0.2"
dnsmasq_start dnsmasq "$dns_port" "bb.test,127.0.0.1" "multi.bb.test,127.0.0.1" "multi.bb.test,127.0.0.2"
answer=$(dns_query "$dns_port" multi.bb.test)
[[ "$(tr ' ' '\n' <<<"$answer" | sort | tr '\n' ' ')" == "127.0.0.1 127.0.0.2 NOERROR " ]] ||
  die "fixture: dnsmasq answered '$answer' for multi.bb.test"

config="$EP_TMP/agent.yaml"
https_check() { # NAME PORT [TLS]
  echo "      - { name: $1, http: { scheme: https, port: $2, path: /big.txt, tls: { ${3:-ca_file: $pki/ca.pem} }, expect: { status: [200] } } }"
}
cat >"$config" <<EOF
environment: at
dns: { servers: ["127.0.0.1:$dns_port"] }
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod } }
services:
  - name: bb
    hostnames: { internal: [bb.test], public: [] }
    checks:
$(https_check home "$tls_port")
$(https_check home-again "$tls_port")
  - name: bbpin
    hostnames: { internal: [pin.bb.test], public: [] }
    backends: { at: ["127.0.0.1:$tls_port"] }
    checks:
$(https_check home "$tls_port")
  - name: multi
    address_mode: all
    hostnames: { internal: [multi.bb.test], public: [] }
    checks:
$(https_check home "$tls_port")
  - name: self
    hostnames: { internal: [self.bb.test], public: [] }
    backends: { at: ["127.0.0.1:$self_port"] }
    checks:
$(https_check home "$self_port" "insecure_skip_verify: true")
  - name: plain
    hostnames: { internal: [plain.bb.test], public: [] }
    backends: { at: ["127.0.0.1:$plain_port"] }
    checks:
      - { name: home, http: { scheme: http, port: $plain_port, path: /big.txt, expect: { status: [200] } } }
EOF
"$ENVPROBE" check-config "$config" >"$EP_TMP/check-config.log" 2>&1 ||
  { cat "$EP_TMP/check-config.log" >&2; die "envprobe check-config rejected the test config"; }

url="https://bb.test:$tls_port/big.txt"
murl="https://multi.bb.test:$tls_port/big.txt"
declare -A instance=(
  [bb/home]="$url#home"
  [bb/home-again]="$url#home-again"
  [bbpin/home]="https://pin.bb.test:$tls_port/big.txt@127.0.0.1:$tls_port"
  [multi/home/1]="$murl@127.0.0.1"
  [multi/home/2]="$murl@127.0.0.2"
  [self/home]="https://self.bb.test:$self_port/big.txt@127.0.0.1:$self_port"
  [plain/home]="http://plain.bb.test:$plain_port/big.txt@127.0.0.1:$plain_port"
)
verified=(bb/home bb/home-again bbpin/home multi/home/1 multi/home/2)

web_port=$(free_port)
step "envprobe run (interval 1s), /metrics on 127.0.0.1:$web_port"
start_bg_direct envprobe "$ENVPROBE" run --config.file="$config" --web.listen-address="127.0.0.1:$web_port"
agent=$BG_PID
scrape="$EP_TMP/metrics.txt"
deadline=$((SECONDS + 20))
while :; do
  kill -0 "$agent" 2>/dev/null || die "envprobe run exited early: $(tail -n 20 "$EP_TMP/envprobe.log")"
  if curl -sf --max-time 2 -o "$scrape" "http://127.0.0.1:$web_port/metrics"; then
    n=$(metric_values "$scrape" probe_success | grep -c . || true)
    ok=$(metric_values "$scrape" probe_success | grep -c '^1$' || true)
    ((n == ${#instance[@]} && ok == n)) && break
  fi
  ((SECONDS < deadline)) ||
    die "not ${#instance[@]} passing probe_success series within 20s; last scrape: $(grep '^probe_success' "$scrape" 2>/dev/null || echo '<none>')"
  sleep 0.3
done
pass "${#instance[@]} probe_success series, all 1"
grep -E '^(probe_(success|ip_|tls_|ssl_last|http_uncompressed))' "$scrape" | sed 's/^/   /'

# one_value NAME LABEL=VALUE...: the value of the one matching sample, or a "<...>" note.
one_value() {
  local values n
  values=$(metric_values "$scrape" "$@")
  n=$(grep -c . <<<"$values" || true)
  if [[ "$n" == 1 ]]; then echo "$values"; else echo "<$n series of $*>"; fi
}
# label_of NAME LABEL INSTANCE: LABEL of the one NAME sample with that instance.
label_of() {
  "$EP_PY" - "$scrape" "$@" <<'PY'
import re, sys
path, name, want, inst = sys.argv[1:5]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
unescape = lambda v: re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), v)
found = []
for line in open(path):
    m = line_re.match(line.strip())
    if m and m.group(1) == name:
        labels = {k: unescape(v) for k, v in label_re.findall(m.group(2) or "")}
        if labels.get("instance") == inst:
            found.append(labels.get(want, "<no label %s>" % want))
print(found[0] if len(found) == 1 else "<%d series>" % len(found))
PY
}
ip_hash() { "$EP_PY" -c 'import ipaddress, sys
h = 2166136261
for b in ipaddress.ip_address(sys.argv[1]).packed:
    h = ((h ^ b) * 16777619) & 0xffffffff
print(h)' "$1"; }

step "instance: one per series, as expected"
for key in "${!instance[@]}"; do
  expect_eq "probe_success{instance=${instance[$key]}}" 1 "$(one_value probe_success instance="${instance[$key]}")"
done

step "count by (instance) (and the family's own labels) is 1 for every probe series"
"$EP_PY" - "$scrape" >"$EP_TMP/count.txt" <<'PY' || fail "count by (instance): $(cat "$EP_TMP/count.txt")"
import collections, re, sys
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
target_labels = {"env", "service", "check", "hostname", "visibility", "address"}
counts = collections.Counter()
families = collections.Counter()
bad = []
for line in open(sys.argv[1]):
    m = line_re.match(line.strip())
    if not m or not re.match(r'(probe_|envprobe_probe_(failure_reason|last_run))', m.group(1)):
        continue
    labels = dict(label_re.findall(m.group(2) or ""))
    if "instance" not in labels:
        bad.append("no instance: " + line.strip())
        continue
    rest = tuple(sorted((k, v) for k, v in labels.items() if k not in target_labels))
    counts[(m.group(1), rest)] += 1
    families[m.group(1)] += 1
bad += ["%s%s: %d series" % (name, dict(rest), n) for (name, rest), n in counts.items() if n != 1]
print("%d samples in %d families, every one alone under its instance" % (sum(families.values()), len(families)))
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
PY
sed 's/^/   /' "$EP_TMP/count.txt"
grep -q "every one alone" "$EP_TMP/count.txt" && pass "count by (instance) is 1 per series"

step "TLS series of the verified targets"
for key in "${verified[@]}"; do
  i=${instance[$key]}
  expect_eq "$key probe_tls_version_info version" "$tls_version" "$(label_of probe_tls_version_info version "$i")"
  expect_eq "$key probe_tls_version_info" 1 "$(one_value probe_tls_version_info instance="$i")"
  expect_eq "$key fingerprint_sha256 (openssl x509 -fingerprint -sha256)" "$fingerprint" \
    "$(label_of probe_ssl_last_chain_info fingerprint_sha256 "$i")"
  expect_eq "$key serialnumber" "$serial" "$(label_of probe_ssl_last_chain_info serialnumber "$i")"
  expect_eq "$key subjectalternative (DNS names only)" "bb.test,multi.bb.test,pin.bb.test" \
    "$(label_of probe_ssl_last_chain_info subjectalternative "$i")"
  expect_eq "$key subject" 'CN=bb.test,O=Envprobe Test\, Inc.,C=DE' "$(label_of probe_ssl_last_chain_info subject "$i")"
  expect_eq "$key issuer" "CN=envprobe blackbox test CA,O=Envprobe" "$(label_of probe_ssl_last_chain_info issuer "$i")"
  expect_eq "$key probe_ssl_last_chain_info" 1 "$(one_value probe_ssl_last_chain_info instance="$i")"
  expect_num "$key probe_ssl_last_chain_expiry_timestamp_seconds (the leaf's notAfter)" \
    "$(one_value probe_ssl_last_chain_expiry_timestamp_seconds instance="$i")" "==" "$leaf_expiry"
  expect_num "$key probe_ssl_earliest_cert_expiry" \
    "$(one_value probe_ssl_earliest_cert_expiry instance="$i")" "==" "$leaf_expiry"
done

step "insecure_skip_verify with a self-signed certificate: the leaf, no verified chain"
i=${instance[self/home]}
expect_eq "self fingerprint_sha256" "$self_fingerprint" "$(label_of probe_ssl_last_chain_info fingerprint_sha256 "$i")"
expect_eq "self subject" "CN=self.bb.test" "$(label_of probe_ssl_last_chain_info subject "$i")"
expect_eq "self issuer" "CN=self.bb.test" "$(label_of probe_ssl_last_chain_info issuer "$i")"
expect_eq "self probe_tls_version_info version" "$self_tls_version" "$(label_of probe_tls_version_info version "$i")"
expect_eq "self probe_ssl_last_chain_expiry_timestamp_seconds" "" \
  "$(metric_values "$scrape" probe_ssl_last_chain_expiry_timestamp_seconds instance="$i")"

step "plain HTTP: no TLS series"
i=${instance[plain/home]}
for name in probe_tls_version_info probe_ssl_last_chain_info probe_ssl_last_chain_expiry_timestamp_seconds; do
  expect_eq "plain $name" "" "$(metric_values "$scrape" "$name" instance="$i")"
done
expect_eq "plain probe_http_ssl" 0 "$(one_value probe_http_ssl instance="$i")"

step "IP protocol and hash, body length after gzip decoding, for every target"
for key in "${!instance[@]}"; do
  i=${instance[$key]}
  address=127.0.0.1
  [[ "$key" == multi/home/2 ]] && address=127.0.0.2
  expect_eq "$key probe_ip_protocol" 4 "$(one_value probe_ip_protocol instance="$i")"
  expect_eq "$key probe_ip_addr_hash (fnv32a of $address's bytes)" "$(ip_hash "$address")" \
    "$(one_value probe_ip_addr_hash instance="$i")"
  expect_eq "$key probe_http_uncompressed_body_length" "$body_bytes" \
    "$(one_value probe_http_uncompressed_body_length instance="$i")"
done

step "promtool check metrics"
rc=0
promtool check metrics <"$scrape" >"$EP_TMP/promtool.log" 2>&1 || rc=$?
sed 's/^/   /' "$EP_TMP/promtool.log"
expect_eq "promtool check metrics exit code" 0 "$rc"

step "SIGTERM stops the agent"
kill -TERM "$agent"
wait_exit "$agent" 5
expect_eq "envprobe run exit code after SIGTERM (within 5s)" 0 "$EXIT_CODE"

finish "blackbox_exporter series and instance labels (blackbox_metrics)"
