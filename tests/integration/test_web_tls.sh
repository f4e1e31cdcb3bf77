#!/usr/bin/env bash
# ctest-labels: hostile
# TLS on the agent's endpoint (--web.config.file with tls_server_config), with a CA and server
# certificates made here with openssl: /metrics over HTTPS answers 200 with the metrics (curl
# --cacert), plain HTTP on the TLS port gets no answer, basic auth works over TLS (401 without,
# 200 with). Hostile clients: one silent connection, 20 stuck mid-handshake and one silent after
# its handshake do not stop concurrent scrapes, and the agent closes them itself (10 s
# handshake and request-head deadlines); garbage instead of a ClientHello closes only that
# connection. min_version TLS13 refuses `curl --tls-max 1.2`; a rotated certificate is served
# without a restart; IPv6 loopback where available; TLS settings this build cannot honour are
# refused at start; SIGTERM with clients stuck mid-handshake still stops the agent cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/web_lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd openssl "Debian package openssl"

step "certificates: a test CA, a server certificate for 127.0.0.1, ::1 and localhost"
pki="$EP_TMP/pki"
mkdir -p "$pki"
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
ec_key "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=envprobe web TLS test CA" -days 2 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$pki/ca.pem" 2>/dev/null || die "fixture: cannot make the CA"
# server NAME SERIAL: $pki/NAME.crt and NAME.key, signed by the CA.
server_cert() {
  ec_key "$pki/$1.key"
  openssl req -new -key "$pki/$1.key" -subj "/CN=envprobe-$1" -out "$pki/$1.csr" 2>/dev/null
  printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
    "extendedKeyUsage = serverAuth" "subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost" \
    >"$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -set_serial "$2" \
    -days 1 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>"$pki/$1.log" ||
    { cat "$pki/$1.log" >&2; die "fixture: cannot sign the $1 certificate"; }
}
server_cert server 4097
server_cert rotated 8194
openssl verify -CAfile "$pki/ca.pem" "$pki/server.crt" >/dev/null || die "fixture: server.crt does not verify"

user=prometheus
password="pw-$RANDOM$RANDOM"
hash=$("$EP_PY" -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 6)))' "$password")
[[ "$hash" == '$2b$06$'* ]] || die "fixture: python3 crypt made no bcrypt hash: '$hash'"
# Relative paths: relative to the web config file's directory.
cat >"$pki/web.yml" <<YAML
tls_server_config: { cert_file: server.crt, key_file: server.key }
basic_auth_users: { $user: '$hash' }
YAML

config="$EP_TMP/agent.yaml"
web_agent_config "$config"
port=$(free_port)
step "envprobe run with TLS and basic auth on 127.0.0.1:$port"
web_agent_start "$port" "$config" --web.config.file="$pki/web.yml"
agent=$AGENT_PID
base="https://127.0.0.1:$port"

# code URL [CURL ARGS...]: the HTTP status, or 000 when curl got no HTTP answer.
code() {
  local url="$1"
  shift
  curl -s --max-time 5 --cacert "$pki/ca.pem" -o /dev/null -w '%{http_code}' "$@" "$url" || true
}
expect_eq "HTTPS /metrics with credentials" 200 "$(code "$base/metrics" -u "$user:$password")"
curl -sf --max-time 5 --cacert "$pki/ca.pem" -u "$user:$password" -o "$EP_TMP/metrics.txt" \
  "$base/metrics" || fail "HTTPS scrape failed"
grep -q '^envprobe_' "$EP_TMP/metrics.txt" && pass "HTTPS scrape has envprobe_* series" ||
  fail "HTTPS scrape has no envprobe_* series"
expect_eq "HTTPS /metrics without credentials" 401 "$(code "$base/metrics")"
expect_eq "HTTPS /metrics with a wrong password" 401 "$(code "$base/metrics" -u "$user:wrong")"
expect_eq "HTTPS / (status page) with credentials" 200 "$(code "$base/" -u "$user:$password")"
expect_eq "HTTPS /nope with credentials" 404 "$(code "$base/nope" -u "$user:$password")"
expect_eq "plain HTTP on the TLS port" 000 "$(code "http://127.0.0.1:$port/metrics" -u "$user:$password")"
expect_eq "HTTPS without trusting the test CA" 000 \
  "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$base/metrics" || true)"
grep -q "port=$port" "$EP_TMP/envprobe.log" && pass "the start line names the TLS port $port" ||
  fail "the start line does not name the TLS port $port: $(grep -m1 'starting' "$EP_TMP/envprobe.log")"

step "hostile clients: 1 silent, 20 stuck mid-handshake, 1 silent after its handshake"
cat >"$EP_TMP/stuck_clients.py" <<'PY'
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
def client_hello():
    ctx = ssl.create_default_context(cafile=ca)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()
hello = client_hello()
held = []
def connect(kind):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.append((kind, s, time.monotonic()))
    return s
connect("silent")
for _ in range(20):
    connect("mid-handshake").sendall(hello[: len(hello) // 2])
tls = ssl.create_default_context(cafile=ca).wrap_socket(
    socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
held.append(("handshaken", tls, time.monotonic()))
print(f"ready: holding {len(held)} connections (ClientHello {len(hello)} bytes, half sent)", flush=True)
for _, s, _ in held:
    s.setblocking(False)
open_ = list(held)
deadline = time.monotonic() + 30
while open_ and time.monotonic() < deadline:
    still = []
    for kind, s, t0 in open_:
        try:
            data = s.recv(4096)
            closed = data == b""
        except (BlockingIOError, ssl.SSLWantReadError):
            closed = False
        except (OSError, ssl.SSLError):
            closed = True
        if closed:
            print(f"closed {kind} {time.monotonic() - t0:.1f}", flush=True)
        else:
            still.append((kind, s, t0))
    open_ = still
    time.sleep(0.2)
for kind, _, t0 in open_:
    print(f"open {kind} {time.monotonic() - t0:.1f}", flush=True)
print("done", flush=True)
PY
start_bg stuck_clients "$EP_PY" "$EP_TMP/stuck_clients.py" "$port" "$pki/ca.pem"
deadline=$((SECONDS + 10))
until grep -q '^ready' "$EP_TMP/stuck_clients.log"; do
  ((SECONDS < deadline)) && kill -0 "$BG_PID" 2>/dev/null ||
    die "stuck clients did not start: $(cat "$EP_TMP/stuck_clients.log")"
  sleep 0.1
done
pass "$(grep '^ready' "$EP_TMP/stuck_clients.log")"

step "scrapes while they are held (curl --max-time 3)"
slowest=0
for i in 1 2 3 4 5 6; do
  t=$(curl -s --max-time 3 --cacert "$pki/ca.pem" -u "$user:$password" -o /dev/null \
    -w '%{http_code} %{time_total}' "$base/metrics" || true)
  expect_eq "scrape $i during the stuck clients" 200 "${t%% *}"
  slowest=$("$EP_PY" -c "print(max($slowest, float('${t#* }' or 0)))")
  sleep 0.5
done
expect_num "slowest scrape during the stuck clients (s)" "$slowest" "<" 1

step "garbage instead of a ClientHello"
cat >"$EP_TMP/garbage.py" <<'PY'
import os, socket, sys, time
port = int(sys.argv[1])
cases = {
    "random bytes": os.urandom(4096),
    "plain HTTP": b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
    "record header claiming 16 KiB, then nonsense": b"\x16\x03\x01\x40\x00" + os.urandom(200),
    "ClientHello with a huge body length": b"\x16\x03\x01\x00\x30\x01\xff\xff\xff" + os.urandom(44),
    "SSLv2-style hello": b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + os.urandom(37),
    "zero-length records": b"\x16\x03\x01\x00\x00" * 50,
}
worst = 0.0
for name, payload in cases.items():
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    t0 = time.monotonic()
    try:
        s.sendall(payload)
        while s.recv(4096):
            pass
    except OSError:
        pass
    took = time.monotonic() - t0
    worst = max(worst, took)
    print(f"{name}: closed by the agent after {took:.2f}s", flush=True)
    s.close()
print(f"worst {worst:.2f}")
PY
"$EP_PY" "$EP_TMP/garbage.py" "$port" >"$EP_TMP/garbage.out" 2>&1 || fail "garbage client: $(cat "$EP_TMP/garbage.out")"
sed 's/^/   /' "$EP_TMP/garbage.out"
expect_num "slowest close of a garbage connection (s)" \
  "$(sed -n 's/^worst //p' "$EP_TMP/garbage.out")" "<" 11
kill -0 "$agent" 2>/dev/null && pass "the agent is alive after the garbage" || fail "the agent died"
expect_eq "HTTPS /metrics after the garbage" 200 "$(code "$base/metrics" -u "$user:$password")"

step "the agent closes the held connections itself (10 s handshake / request-head deadlines)"
deadline=$((SECONDS + 40))
until grep -q '^done' "$EP_TMP/stuck_clients.log"; do
  ((SECONDS < deadline)) || break
  sleep 0.5
done
closed=$(grep -c '^closed' "$EP_TMP/stuck_clients.log" || true)
expect_eq "held connections closed by the agent" 22 "$closed"
latest=$(awk '/^closed/ { if ($3 > m) m = $3 } END { print m + 0 }' "$EP_TMP/stuck_clients.log")
expect_num "latest close of a held connection (s)" "$latest" "<=" 14
expect_num "earliest close of a held connection (s)" \
  "$(awk '/^closed/ { if (m == "" || $3 < m) m = $3 } END { print m + 0 }' "$EP_TMP/stuck_clients.log")" ">=" 8
expect_eq "HTTPS /metrics afterwards" 200 "$(code "$base/metrics" -u "$user:$password")"

step "SIGTERM while 22 clients are held (silent, mid-handshake, after the handshake)"
start_bg stuck_again "$EP_PY" "$EP_TMP/stuck_clients.py" "$port" "$pki/ca.pem"
deadline=$((SECONDS + 10))
until grep -q '^ready' "$EP_TMP/stuck_again.log"; do
  ((SECONDS < deadline)) || die "stuck clients did not start again: $(cat "$EP_TMP/stuck_again.log")"
  sleep 0.1
done
kill -TERM "$agent"
wait_exit "$agent" 10
expect_eq "exit code after SIGTERM with stuck TLS clients" 0 "$EXIT_CODE"

step "min_version TLS13, and certificate rotation without a restart"
cp "$pki/server.crt" "$pki/served.crt"
cp "$pki/server.key" "$pki/served.key"
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n  min_version: TLS13\n' \
  "$pki/served.crt" "$pki/served.key" >"$pki/tls13.yml"
port2=$(free_port)
: >"$EP_TMP/envprobe.log"
web_agent_start "$port2" "$config" --web.config.file="$pki/tls13.yml"
base2="https://127.0.0.1:$port2"
expect_eq "TLS 1.3 client" 200 "$(code "$base2/-/healthy")"
expect_eq "curl --tls-max 1.2 against min_version TLS13" 000 "$(code "$base2/-/healthy" --tls-max 1.2)"
# served_serial: the serial of the certificate the agent shows now.
served_serial() {
  openssl s_client -connect "127.0.0.1:$port2" -CAfile "$pki/ca.pem" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
expect_eq "served certificate before rotation" 1001 "$(served_serial)"
mv "$pki/rotated.crt" "$pki/served.crt.new" && mv "$pki/served.crt.new" "$pki/served.crt"
mv "$pki/rotated.key" "$pki/served.key.new" && mv "$pki/served.key.new" "$pki/served.key"
sleep 1.2
served_serial >/dev/null # a first connection after the change triggers the look
seen=""
deadline=$((SECONDS + 5))
while [[ "$seen" != 2002 ]] && ((SECONDS < deadline)); do
  seen=$(served_serial)
  sleep 0.3
done
expect_eq "served certificate after rotation (serial 8194 = 0x2002)" 2002 "$seen"
grep -q 'reloaded the TLS certificate' "$EP_TMP/envprobe.log" && pass "the agent logged the reload" ||
  fail "no reload in the agent's log"
expect_eq "HTTPS after rotation" 200 "$(code "$base2/-/healthy")"

if "$EP_PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  step "IPv6 loopback: --web.listen-address=[::1]:PORT with TLS"
  port6=$(free_port)
  start_bg_direct envprobe6 "$ENVPROBE" run --config.file="$config" \
    --web.listen-address="[::1]:$port6" --web.config.file="$pki/tls13.yml"
  wait_tcp envprobe6 "$BG_PID" ::1 "$port6"
  expect_eq "HTTPS over [::1]" 200 "$(code "https://[::1]:$port6/-/healthy")"
else
  echo "   (no IPv6 loopback here: [::1] not tested)"
fi

# refused WHAT WEB_CONFIG_TEXT EXPECTED_ERROR: the agent must exit 1 naming the problem.
refused() { web_config_refused "$pki" "$@"; }
step "TLS settings this build cannot honour are refused at start"
refused tls11 "tls_server_config: { cert_file: server.crt, key_file: server.key, max_version: TLS11 }
" "tls_server_config.max_version TLS11: not available"
refused range "tls_server_config: { cert_file: server.crt, key_file: server.key, min_version: TLS13, max_version: TLS12 }
" "min_version TLS13 is above max_version TLS12"
refused mismatch "tls_server_config: { cert_file: server.crt, key_file: served.key }
" "does not match cert_file"
refused notpem "tls_server_config: { cert_file: ca.key, key_file: server.key }
" "cannot load a PEM certificate"

finish test_web_tls
