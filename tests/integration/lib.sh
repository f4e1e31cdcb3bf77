# shellcheck shell=bash
# Shared helpers for the integration tests: a temp dir, real servers on loopback ports picked at
# run time, cleanup that always runs, JSON and Prometheus-text queries, and expectations that
# say what was expected and what was seen. Source it from a test script running under
# `set -euo pipefail`.
#
# Every server is bound to 127.0.0.0/8 only. Every process started here is stopped on exit,
# whatever the exit path; each also runs under `timeout` so that it stops by itself even if this
# shell is killed with SIGKILL.

EP_PY=/usr/bin/python3
[[ -x "$EP_PY" ]] || EP_PY="$(command -v python3)"
EP_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENVPROBE_SOURCE_DIR="${ENVPROBE_SOURCE_DIR:-$(cd "$EP_LIB_DIR/../.." && pwd)}"
ENVPROBE="${ENVPROBE:-$ENVPROBE_SOURCE_DIR/build/envprobe}"
EP_MAX_LIFETIME="${EP_MAX_LIFETIME:-240}" # seconds any helper process may live
EP_FAILURES=0
EP_PIDS=()
EP_NAMES=()
EP_TMP="$(mktemp -d "${TMPDIR:-/tmp}/envprobe-it.XXXXXX")"

ep_cleanup() {
  local rc=$? i pid deadline
  trap - EXIT
  trap '' PIPE # a reader that went away must not stop the cleanup
  for ((i = ${#EP_PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${EP_PIDS[$i]}" 2>/dev/null || true
  done
  deadline=$((SECONDS + 5))
  for i in "${!EP_PIDS[@]}"; do
    pid=${EP_PIDS[$i]}
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "cleanup: ${EP_NAMES[$i]} (pid $pid) did not stop on SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    local f
    for f in "$EP_TMP"/*.log "$EP_TMP"/*/*.log "$EP_TMP"/*.err; do
      [[ -s "$f" ]] || continue
      echo "---- last lines of ${f#"$EP_TMP"/}" >&2
      tail -n 25 "$f" >&2
    done
  fi
  if [[ "${EP_KEEP_TMP:-0}" == 1 ]]; then
    echo "kept $EP_TMP" >&2
  else
    rm -rf "$EP_TMP"
  fi
  exit "$rc"
}
trap ep_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- reporting -----------------------------------------------------------------------------

step() { echo "== $*"; }

# die MESSAGE: a broken setup; stop now.
die() {
  echo "FAIL: $*" >&2
  exit 1
}

# fail MESSAGE: a failed expectation; keep going, finish() exits non-zero.
fail() {
  echo "FAIL: $*" >&2
  EP_FAILURES=$((EP_FAILURES + 1))
}

pass() { echo "ok: $*"; }

# expect_eq WHAT EXPECTED SEEN
expect_eq() {
  if [[ "$3" == "$2" ]]; then
    pass "$1 = $3"
  else
    fail "$1: expected '$2', saw '$3'"
  fi
}

# expect_one_of WHAT SEEN ALLOWED...
expect_one_of() {
  local what="$1" seen="$2" a
  shift 2
  for a in "$@"; do
    if [[ "$seen" == "$a" ]]; then
      pass "$what = $seen"
      return 0
    fi
  done
  fail "$what: expected one of '$*', saw '$seen'"
}

# expect_num WHAT SEEN OP BOUND: numeric comparison (OP is one of < <= > >= ==), floats allowed.
expect_num() {
  local what="$1" seen="$2" op="$3" bound="$4"
  if "$EP_PY" -c 'import sys, operator as o
ops = {"<": o.lt, "<=": o.le, ">": o.gt, ">=": o.ge, "==": o.eq}
try:
    ok = ops[sys.argv[2]](float(sys.argv[1]), float(sys.argv[3]))
except ValueError:
    ok = False
sys.exit(0 if ok else 1)' "$seen" "$op" "$bound"; then
    pass "$what = $seen ($op $bound)"
  else
    fail "$what: expected a number $op $bound, saw '$seen'"
  fi
}

# finish NAME: exit 0 if every expectation held, else 1.
finish() {
  if ((EP_FAILURES > 0)); then
    echo "FAIL: $1: $EP_FAILURES expectation(s) failed" >&2
    exit 1
  fi
  echo "PASS: $1"
}

# --- prerequisites -------------------------------------------------------------------------

# require_cmd CMD "how to get it"
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || [[ -x "$1" ]] || die "$1 not found ($2)"
}

require_envprobe() {
  [[ -n "$ENVPROBE" && -x "$ENVPROBE" ]] ||
    die "envprobe binary not found or not executable at '$ENVPROBE' (set ENVPROBE, or build it: cmake --build build)"
}

# --- ports and processes -------------------------------------------------------------------

# free_port: print a port free on 127.0.0.1 for both TCP and UDP, never one already handed out
# in this run. Servers bind it right after; the window for a clash is small and a clash shows
# up as a server that fails to start, reported with its log.
free_port() {
  "$EP_PY" - "$EP_TMP/ports" <<'PY'
import os, socket, sys
used = set()
if os.path.exists(sys.argv[1]):
    used = {int(x) for x in open(sys.argv[1]).read().split()}
for _ in range(200):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    if port in used:
        continue
    with open(sys.argv[1], "a") as f:
        f.write(f"{port}\n")
    print(port)
    sys.exit(0)
sys.exit("no free port found")
PY
}

# start_bg NAME CMD...: run CMD in the background (under `timeout`), output appended to
# $EP_TMP/NAME.log (so the log can be emptied between phases); sets BG_PID. Stopped on exit.
start_bg() {
  local name="$1"
  shift
  timeout -k 5 "$EP_MAX_LIFETIME" "$@" >>"$EP_TMP/$name.log" 2>&1 &
  BG_PID=$!
  EP_PIDS+=("$BG_PID")
  EP_NAMES+=("$name")
}

# start_bg_direct NAME CMD...: like start_bg without the `timeout` wrapper, so that BG_PID is
# the program itself (to signal it and read its own exit code).
start_bg_direct() {
  local name="$1"
  shift
  "$@" >>"$EP_TMP/$name.log" 2>&1 &
  BG_PID=$!
  EP_PIDS+=("$BG_PID")
  EP_NAMES+=("$name")
}

# wait_tcp NAME PID HOST PORT [SECONDS]: wait until HOST:PORT accepts a connection; die with the
# server's log if PID exits first or time runs out.
wait_tcp() {
  local name="$1" pid="$2" host="$3" port="$4" secs="${5:-10}"
  local deadline=$((SECONDS + secs))
  while ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "---- $name log:" >&2
      cat "$EP_TMP/$name.log" >&2 || true
      die "$name exited before listening on $host:$port"
    fi
    ((SECONDS < deadline)) || die "$name is not listening on $host:$port after ${secs}s"
    sleep 0.1
  done
}

# wait_exit PID SECONDS: wait for PID to exit; sets EXIT_CODE (or 'timeout' if it is still up).
# shellcheck disable=SC2034
wait_exit() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    EXIT_CODE=timeout
    return 0
  fi
  EXIT_CODE=0
  wait "$pid" || EXIT_CODE=$?
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0) or SECONDS pass (1).
wait_until() {
  local deadline=$((${EPOCHREALTIME/./} + ${1%.*} * 1000000))
  shift
  until "$@"; do
    ((${EPOCHREALTIME/./} < deadline)) || return 1
    sleep 0.1
  done
}

# --- Alertmanager --------------------------------------------------------------------------

AM_BIN=/usr/bin/prometheus-alertmanager

# alertmanager_start PORT SINK_PORT GROUP_BY: a real Alertmanager on 127.0.0.1:PORT (state in
# $EP_TMP/am-data, log $EP_TMP/alertmanager.log) that notifies the webhook sink on SINK_PORT of
# everything, resolved alerts too, within about a second (group_wait and group_interval 1 s,
# resolve_timeout 5 s), grouped by GROUP_BY (e.g. "alertname, hostname"). Waits until it is
# ready; sets AM_PID.
alertmanager_start() {
  local port="$1" sink_port="$2" group_by="$3"
  cat >"$EP_TMP/alertmanager.yml" <<EOF
global:
  resolve_timeout: 5s
route:
  receiver: hook
  group_by: [$group_by]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$sink_port/hook
        send_resolved: true
EOF
  start_bg alertmanager "$AM_BIN" --config.file="$EP_TMP/alertmanager.yml" \
    --storage.path="$EP_TMP/am-data" --web.listen-address="127.0.0.1:$port" \
    --cluster.listen-address= --log.level=debug
  AM_PID=$BG_PID
  local ready=0
  for _ in $(seq 200); do
    kill -0 "$AM_PID" 2>/dev/null || break
    if curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$port/-/ready"; then
      ready=1
      break
    fi
    sleep 0.1
  done
  ((ready)) || { cat "$EP_TMP/alertmanager.log" >&2; die "Alertmanager not ready on 127.0.0.1:$port"; }
}

# --- nginx ---------------------------------------------------------------------------------

# nginx_start NAME SERVER_BLOCKS PORT...: run nginx (Debian's /usr/sbin/nginx) with its own
# prefix in $EP_TMP/NAME: pid, logs and temp paths all inside it, in the foreground, one process.
# SERVER_BLOCKS go inside `http {}`; the access log ($EP_TMP/NAME/access.log) records
# "host=<Host> sni=<SNI> status=<status> <request line>". Waits for each PORT on 127.0.0.1.
NGINX=/usr/sbin/nginx
nginx_start() {
  local name="$1" servers="$2"
  shift 2
  local dir="$EP_TMP/$name"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  log_format probe 'host=\$host sni=\$ssl_server_name status=\$status "\$request" \$http_user_agent';
  access_log $dir/access.log probe;
  default_type text/plain;
  server_tokens off;
$servers
}
EOF
  "$NGINX" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' ||
    die "nginx rejected $dir/nginx.conf (see above)"
  start_bg "$name" "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;'
  local port
  for port in "$@"; do wait_tcp "$name" "$BG_PID" 127.0.0.1 "$port"; done
}

# --- dnsmasq -------------------------------------------------------------------------------

# dnsmasq_start NAME PORT HOST_RECORD...: an authoritative-for-.test dnsmasq on 127.0.0.1:PORT
# (UDP and TCP) answering only the given --host-record entries ("name,addr"); any other name
# under .test is NXDOMAIN, and nothing is forwarded anywhere.
DNSMASQ=/usr/sbin/dnsmasq
dnsmasq_start() {
  local name="$1" port="$2"
  shift 2
  local records=() r
  for r in "$@"; do records+=("--host-record=$r"); done
  start_bg "$name" "$DNSMASQ" --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
    --listen-address=127.0.0.1 --bind-interfaces --port="$port" --user=root \
    --pid-file="$EP_TMP/$name.pid" --local=/test/ --log-queries --log-facility=- "${records[@]}"
  wait_tcp "$name" "$BG_PID" 127.0.0.1 "$port"
}

# dns_query PORT NAME: ask 127.0.0.1:PORT over UDP for NAME's A records; prints
# "<RCODE> <addr>..." (e.g. "NOERROR 127.0.0.1", "NXDOMAIN"). Used to prove the fixtures.
dns_query() {
  "$EP_PY" - "$1" "$2" <<'PY'
import random, socket, struct, sys
port, name = int(sys.argv[1]), sys.argv[2]
qid = random.randrange(65536)
q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, ("127.0.0.1", port))
r, _ = s.recvfrom(4096)
rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", r[:12])
rcode = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(flags & 15, str(flags & 15))
def skip(off):
    while True:
        n = r[off]
        if n == 0: return off + 1
        if n >= 192: return off + 2
        off += n + 1
off = 12
for _ in range(qd): off = skip(off) + 4
addrs = []
for _ in range(an):
    off = skip(off)
    typ, _, _, rdlen = struct.unpack(">HHIH", r[off:off + 10])
    off += 10
    if typ == 1: addrs.append(socket.inet_ntoa(r[off:off + rdlen]))
    off += rdlen
print(" ".join([rcode] + addrs))
PY
}

# loopback_dns_yaml: a `dns:` line for an agent config whose targets are all pinned to
# backends. It names a loopback port where nothing listens, so that no DNS query can ever go to
# the machine's own resolvers (possibly off this host); pinned targets need no DNS at all.
loopback_dns_yaml() {
  echo "dns: { servers: [\"127.0.0.1:$(free_port)\"] }"
}

# --- envprobe once and its JSON --------------------------------------------------------------

# jq_py EXPR [FILE]: evaluate the Python expression EXPR with d = the JSON in FILE (or stdin);
# strings print raw, anything else as JSON.
jq_py() {
  "$EP_PY" -c 'import json, sys
d = json.load(open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$@"
}

# ep_once CONFIG: run `envprobe once --format=json`; sets ONCE_RC and ONCE_JSON (the file with
# its stdout), and ONCE_SECONDS (wall time). Dies if it hangs or prints no JSON array.
ep_once() {
  local config="$1" start end
  ONCE_JSON="$EP_TMP/once.json"
  echo "-- $ENVPROBE once --config.file=$config --format=json"
  start=$(date +%s.%N)
  ONCE_RC=0
  timeout -k 5 50 "$ENVPROBE" once --config.file="$config" --format=json \
    >"$ONCE_JSON" 2>"$EP_TMP/once.err" || ONCE_RC=$?
  end=$(date +%s.%N)
  ONCE_SECONDS=$("$EP_PY" -c "print(round($end - $start, 2))")
  [[ "$ONCE_RC" != 124 && "$ONCE_RC" != 137 ]] || die "envprobe once did not finish within 50s"
  if ! jq_py '(isinstance(d, list) and all(isinstance(t, dict) for t in d)) or sys.exit(1)' \
    "$ONCE_JSON" >/dev/null 2>&1; then
    die "envprobe once (exit $ONCE_RC) did not print a JSON array of objects on stdout; it printed: $(head -c 2000 "$ONCE_JSON")"
  fi
  echo "   exit $ONCE_RC after ${ONCE_SECONDS}s; results:"
  jq_py '"\n".join("   %s %s/%s %s (%s) address=%s success=%s reason=%s status=%s duration=%.3fs detail=%s"
        % (t.get("env"), t.get("service"), t.get("check"), t.get("hostname"), t.get("visibility"),
           t.get("address"), t.get("success"), t.get("reason"), t.get("status_code"),
           float(t.get("duration_seconds") or 0), t.get("detail")) for t in d)' "$ONCE_JSON"
}

# target_field FIELD KEY=VALUE...: print FIELD of the one result whose KEYs equal the VALUEs
# (compared as strings; booleans as true/false). Prints "<N results match ...>" unless
# exactly one matches, so the expectation that uses it fails with that message.
target_field() {
  "$EP_PY" - "$ONCE_JSON" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
field, filters = sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
def s(v):
    return json.dumps(v) if isinstance(v, bool) else str(v)
m = [t for t in d if all(s(t.get(k)) == v for k, v in filters)]
if len(m) != 1:
    print(f"<{len(m)} results match {' '.join(sys.argv[3:])}>")
elif field not in m[0]:
    print(f"<no field {field}>")
else:
    print(s(m[0][field]))
PY
}

# --- Prometheus text ---------------------------------------------------------------------------

# metric_values FILE NAME [LABEL=VALUE...]: print the value of every sample of NAME in the
# Prometheus text FILE whose labels include the given ones, one per line.
metric_values() {
  "$EP_PY" - "$@" <<'PY'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
for line in open(path):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    m = line_re.match(line)
    if not m or m.group(1) != name:
        continue
    labels = {k: v.encode().decode("unicode_escape") for k, v in label_re.findall(m.group(2) or "")}
    if all(labels.get(k) == v for k, v in want.items()):
        print(m.group(3))
PY
}

# --- test certificates -----------------------------------------------------------------------

# pki_ca DIR: a test CA (DIR/ca.key, DIR/ca.pem), EC P-256, made here with openssl.
pki_ca() {
  mkdir -p "$1"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$1/ca.key" -subj "/CN=envprobe integration test CA" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1/ca.pem" 2>/dev/null || die "openssl could not make the test CA in $1"
}

# pki_leaf DIR NAME DNS_NAME: DIR/NAME.key and DIR/NAME.pem, a leaf for DNS_NAME signed by
# DIR's CA (pki_ca first); each call makes a new key, so a new certificate and fingerprint.
pki_leaf() {
  local dir="$1" name="$2" san="$3"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$dir/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$dir/$name.key" -subj "/CN=$san" -days 30 \
    -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -addext "subjectAltName=DNS:$san" -addext "basicConstraints=critical,CA:FALSE" \
    -addext "extendedKeyUsage=serverAuth" -out "$dir/$name.pem" 2>/dev/null ||
    die "openssl could not sign the $name certificate in $dir"
}

# cert_sha256 PEM: the certificate's SHA-256 fingerprint, lowercase hex without colons.
cert_sha256() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f'
}
