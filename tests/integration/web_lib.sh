# shellcheck shell=bash
# Helpers for the web endpoint tests, on top of lib.sh: a minimal agent config, starting
# `envprobe run` and waiting for its port, and clients that hold connections open.

# web_agent_config FILE: a config with one pinned check against a loopback port where nothing
# listens, so the agent runs, probes and exports series without any network.
web_agent_config() {
  local dead_port
  dead_port=$(free_port)
  cat >"$1" <<YAML
environment: at
$(loopback_dns_yaml)
defaults: { interval: 1s, timeout: 1s }
environments: { at: { tier: nonprod } }
services:
  - name: shop
    hostnames: { internal: ["shop.{env}.test"], public: [] }
    backends: { at: ["127.0.0.1:$dead_port"] }
    checks:
      - name: home
        http: { scheme: http, port: $dead_port, path: / }
YAML
}

# web_agent_start PORT CONFIG [FLAGS...]: run the agent on 127.0.0.1:PORT; sets AGENT_PID.
web_agent_start() {
  local port="$1" config="$2"
  shift 2
  start_bg_direct envprobe "$ENVPROBE" run --config.file="$config" \
    --web.listen-address="127.0.0.1:$port" "$@"
  AGENT_PID=$BG_PID
  wait_tcp envprobe "$AGENT_PID" 127.0.0.1 "$port"
}

# idle_clients_start PORT COUNT: a process holding COUNT connections to 127.0.0.1:PORT that
# send nothing, plus one that sends a request header one byte per second; each connection is
# reopened when the server closes it, so the pressure lasts. Sets IDLE_PID.
idle_clients_start() {
  cat >"$EP_TMP/idle_clients.py" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s
idle = [connect() for _ in range(count)]
slow_header = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
slow, sent, reopened = connect(), 0, 0
print(f"holding {count} idle connections and 1 slow one to port {port}", flush=True)
def closed(s):
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
while True:
    for i, s in enumerate(idle):
        if closed(s):
            s.close()
            idle[i] = connect()
            reopened += 1
    try:
        slow.send(slow_header[sent % len(slow_header):][:1])
        sent += 1
    except OSError:
        slow.close()
        slow = connect()
        reopened += 1
    print(f"sent {sent} slow bytes, reopened {reopened} connections", flush=True)
    time.sleep(1)
PY
  start_bg idle_clients "$EP_PY" "$EP_TMP/idle_clients.py" "$1" "$2"
  IDLE_PID=$BG_PID
}

# web_config_refused DIR WHAT WEB_CONFIG_TEXT EXPECTED_ERROR: writes the web config to
# DIR/WHAT.yml (relative paths in it resolve against DIR); the agent, run with $config, must exit
# 1 naming the problem.
web_config_refused() {
  local dir="$1" what="$2" file="$1/$2.yml" port rc=0
  printf '%s' "$3" >"$file"
  port=$(free_port)
  timeout -k 5 20 "$ENVPROBE" run --config.file="$config" --web.listen-address="127.0.0.1:$port" \
    --web.config.file="$file" >"$EP_TMP/$what.log" 2>&1 || rc=$?
  expect_eq "exit code with a $what web config" 1 "$rc"
  grep -qF -- "$4" "$EP_TMP/$what.log" && pass "$what: the agent says: $4" ||
    fail "$what: expected the error '$4', the agent said: $(head -c 600 "$EP_TMP/$what.log")"
}
