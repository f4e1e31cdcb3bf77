#!/usr/bin/python3
"""What the benchmark scripts share: processes, /proc, the Prometheus text format, configs.

bench.py, profile.py and reload_time.py import it. Standard library only.
"""

import argparse
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zlib


CLK_TCK = os.sysconf("SC_CLK_TCK")
NGINX = "/usr/sbin/nginx"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
WRK = "/usr/bin/wrk"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # libcurl's default CA file on Debian
OPENSSL = "/usr/bin/openssl"
DESIGN_TARGET_US = 60.0

# ---------------------------------------------------------------------------------------------
# Processes


_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: a child gets SIGTERM if this script dies without running its cleanup.
    _libc.prctl(1, signal.SIGTERM)


class Processes:
    """Every process the benchmark starts; stop() ends them all, each by its own pid."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, log_path, env=None):
        log = open(log_path, "wb")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent, env=env)
        log.close()
        self.procs.append((name, proc))
        return proc

    def stop(self, proc, grace=10.0):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def stop_all(self):
        for _, proc in reversed(list(self.procs)):
            self.stop(proc)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=30.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


def wait_until(what, predicate, proc, timeout, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode}; log:\n" + tail(log_path))
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} not ready after {timeout:.0f}s; log:\n" + tail(log_path))


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# /proc


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def machine_busy_ticks():
    """CPU ticks spent by the whole machine outside idle and iowait (first line of /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


class CpuWindow:
    """CPU ticks of a set of pids (and of the whole machine) between start() and stop()."""

    def __init__(self, pids):
        self.pids = list(dict.fromkeys(list(pids) + [os.getpid()]))

    def start(self):
        self.t0 = time.monotonic()
        self.c0 = {p: cpu_ticks(p) for p in self.pids}
        self.m0 = machine_busy_ticks()

    def stop(self):
        self.t1 = time.monotonic()
        self.c1 = {p: cpu_ticks(p) for p in self.pids}
        self.m1 = machine_busy_ticks()

    @property
    def other_cores(self):
        """CPUs kept busy by everything else on the machine: the run is noisy when this is high."""
        return max(0.0, (self.m1 - self.m0) / CLK_TCK - self.cpu_seconds()) / self.seconds

    @property
    def seconds(self):
        return self.t1 - self.t0

    def cpu_seconds(self, pids=None):
        return sum(self.c1[p] - self.c0[p] for p in (pids or self.pids)) / CLK_TCK


def meminfo_kib(key):
    """A line of /proc/meminfo (MemAvailable, MemTotal, SwapFree …) in KiB."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# Prometheus text format


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
WANTED = ("envprobe_probes_total", "envprobe_scheduler_lag_seconds", "envprobe_targets",
          "envprobe_skipped_runs_total")
WANTED_BYTES = tuple(w.encode() for w in WANTED)


def scrape_envprobe(port):
    """The agent's own series (not the per-target ones), with the time of the scrape."""
    t0 = time.monotonic()
    _, body = http_get(f"http://127.0.0.1:{port}/metrics", timeout=60)
    t1 = time.monotonic()
    samples = {}
    for raw in body.split(b"\n"):
        if not raw.startswith(WANTED_BYTES):
            continue
        m = SAMPLE.match(raw.decode())
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        samples[(name, tuple(sorted(LABEL.findall(labels))))] = value
    return {"at": (t0 + t1) / 2, "samples": samples, "bytes": len(body)}


def stream_scrape(port, gzip=False, wanted=WANTED_BYTES, timeout=300.0, extra=None):
    """/metrics read in chunks (a large agent's exposition is hundreds of MB), keeping only lines
    that start with one of `wanted` (and, if given, lines for which extra(line) is true). Returns
    what scrape_envprobe returns, plus: wire (bytes received), bytes (after gunzip), encoding (the
    Content-Encoding the agent answered with), wall (seconds), lines (the extra lines)."""
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers)
    t0 = time.monotonic()
    samples, lines = {}, []
    wire = plain = 0
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        encoding = resp.headers.get("Content-Encoding", "") or ""
        inflate = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
        carry = b""
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            wire += len(chunk)
            if inflate:
                chunk = inflate.decompress(chunk)
            plain += len(chunk)
            buf = carry + chunk
            cut = buf.rfind(b"\n") + 1
            carry = buf[cut:]
            if extra:
                for raw in buf[:cut].split(b"\n"):
                    if raw.startswith(wanted):
                        _sample(raw, samples)
                    elif extra(raw):
                        lines.append(raw)
            else:
                _find_lines(b"\n" + buf[:cut], wanted, samples)
        if inflate:
            rest = inflate.flush()
            plain += len(rest)
            carry += rest
        for raw in carry.split(b"\n"):
            if raw.startswith(wanted):
                _sample(raw, samples)
            elif extra and extra(raw):
                lines.append(raw)
    t1 = time.monotonic()
    return {"at": (t0 + t1) / 2, "samples": samples, "bytes": plain, "wire": wire,
            "encoding": encoding, "wall": t1 - t0, "lines": lines}


def _find_lines(text, wanted, samples):
    """The wanted lines of a block of whole lines (preceded by a newline), without splitting the
    block: a scrape of 100,000 targets is millions of lines, nearly all of them per-target series."""
    prefixes = {w.split(b"_", 1)[0] + b"_" for w in wanted}
    for prefix in prefixes:
        at = text.find(b"\n" + prefix)
        while at >= 0:
            end = text.find(b"\n", at + 1)
            raw = text[at + 1:end]
            if raw.startswith(wanted):
                _sample(raw, samples)
            at = text.find(b"\n" + prefix, end)


def _sample(raw, samples):
    m = SAMPLE.match(raw.decode(errors="replace"))
    if m:
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))


def total(scrape, name, **match):
    out = 0.0
    for (n, labels), v in scrape["samples"].items():
        if n == name and all(dict(labels).get(k) == want for k, want in match.items()):
            out += v
    return out


def lag_buckets(scrape):
    buckets = []
    for (n, labels), v in scrape["samples"].items():
        if n == "envprobe_scheduler_lag_seconds_bucket":
            buckets.append((float(dict(labels)["le"]), v))  # float("+Inf") is inf
    return sorted(buckets)


def histogram_quantile(q, before, after):
    """Like PromQL's histogram_quantile over the bucket increase between two scrapes."""
    b0 = dict(before)
    deltas = [(le, c - b0.get(le, 0.0)) for le, c in after]
    if not deltas or deltas[-1][1] <= 0:
        return None
    rank = q * deltas[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in deltas:
        if count >= rank:
            if le == float("inf"):
                return prev_le  # the highest finite bound, as Prometheus does
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return prev_le


# ---------------------------------------------------------------------------------------------
# Configs


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 500ms, 1s, 2m, 1h)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def format_duration(seconds):
    ms = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def make_pki(work):
    """A test CA and a leaf for *.bench.test and 127.0.0.1 signed by it (ECDSA P-256), made with
    the openssl command line. Returns the paths: ca (the CA alone) and bundle (the system CA
    bundle with the CA appended: what a check that trusts the system CAs makes the agent load)."""
    pki = os.path.join(work, "pki")
    os.makedirs(pki, exist_ok=True)
    paths = {name: os.path.join(pki, name) for name in ("ca.key", "ca.pem", "leaf.key", "leaf.csr",
                                                         "leaf.pem", "leaf.ext")}
    with open(paths["leaf.ext"], "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = DNS:*.bench.test, DNS:bench.test, IP:127.0.0.1\n")
    p256 = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out"]
    steps = [
        p256 + [paths["ca.key"]],
        ["req", "-x509", "-new", "-key", paths["ca.key"], "-subj", "/CN=envprobe bench CA",
         "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign", "-out", paths["ca.pem"]],
        p256 + [paths["leaf.key"]],
        ["req", "-new", "-key", paths["leaf.key"], "-subj", "/CN=bench.test", "-out", paths["leaf.csr"]],
        ["x509", "-req", "-in", paths["leaf.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
         "-CAcreateserial", "-days", "2", "-sha256", "-extfile", paths["leaf.ext"],
         "-out", paths["leaf.pem"]],
    ]
    for step in steps:
        out = subprocess.run([OPENSSL] + step, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"openssl {' '.join(step)} failed:\n{out.stderr}")
    bundle = os.path.join(pki, "bundle.pem")
    with open(bundle, "w") as out:
        try:
            with open(SYSTEM_CA_BUNDLE) as system:
                out.write(system.read())
        except OSError as e:
            print(f"note: {SYSTEM_CA_BUNDLE}: {e}; the bundle rows trust the bench CA only",
                  file=sys.stderr)
        with open(paths["ca.pem"]) as ca:
            out.write(ca.read())
    with open(bundle) as f:
        certs = f.read().count("-----BEGIN CERTIFICATE-----")
    certs_dir = os.path.join(pki, "empty-certs-dir")
    os.makedirs(certs_dir, exist_ok=True)
    return {"ca": paths["ca.pem"], "cert": paths["leaf.pem"], "key": paths["leaf.key"],
            "bundle": bundle, "bundle_certs": certs, "empty_dir": certs_dir}


def write_nginx_conf(prefix, port, tls=None):
    os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
    https = "" if not tls else f"""
  server {{
    listen 127.0.0.1:{tls["port"]} ssl default_server backlog=4096;
    server_name ~^.*$;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {tls["cert"]};
    ssl_certificate_key {tls["key"]};
    ssl_session_tickets off;
    ssl_session_cache off;
    location / {{ default_type text/plain; return 200 "ok\\n"; }}
  }}"""
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp;
  proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp;
  scgi_temp_path {prefix}/tmp;
  server {{
    listen 127.0.0.1:{port} default_server backlog=4096;
    server_name ~^.*$;
    location / {{ default_type text/plain; return 200 "ok\\n"; }}
  }}{https}
}}
""")
    return path


def conf_head(interval, timeout):
    """The bench agent file's first lines: its environment, defaults and scheduler, then
    `services:`; the caller writes the services."""
    return ("environment: bench\n"
            f"defaults: {{ interval: {format_duration(interval)}, "
            f"timeout: {format_duration(timeout)} }}\n"
            "scheduler: { jitter: 0.0, max_inflight: 1000 }\n"
            "environments: { bench: { tier: nonprod } }\n"
            "services:\n")


def write_envprobe_conf(path, targets, interval, timeout, nginx_port, ca_file=None):
    """N targets pinned to nginx; with ca_file, an https check that trusts that CA file."""
    check = ("{ name: home, http: { scheme: http, path: /, expect: { status: [200] } } }"
             if not ca_file else
             f"{{ name: home, http: {{ scheme: https, path: /, tls: {{ ca_file: \"{ca_file}\" }}, "
             "expect: { status: [200] } } }")
    with open(path, "w") as f:
        f.write(conf_head(interval, timeout))
        for i in range(targets):
            name = f"svc{i:06d}"
            f.write(f"  - name: {name}\n"
                    f"    hostnames: {{ internal: [\"{name}.bench.test\"], public: [] }}\n"
                    f"    backends: {{ bench: [\"127.0.0.1:{nginx_port}\"] }}\n"
                    f"    checks: [ {check} ]\n")


def write_blackbox_conf(path, ca_file=None):
    with open(path, "w") as f:
        f.write("modules:\n"
                "  http_2xx:\n"
                "    prober: http\n"
                "    timeout: 5s\n"
                "    http:\n"
                "      preferred_ip_protocol: ip4\n")
        if ca_file:
            f.write("  https_2xx:\n"
                    "    prober: http\n"
                    "    timeout: 5s\n"
                    "    http:\n"
                    "      preferred_ip_protocol: ip4\n"
                    "      fail_if_not_ssl: true\n"
                    f"      tls_config: {{ ca_file: \"{ca_file}\" }}\n"
                    "  https_2xx_system:\n"
                    "    prober: http\n"
                    "    timeout: 5s\n"
                    "    http:\n"
                    "      preferred_ip_protocol: ip4\n"
                    "      fail_if_not_ssl: true\n")
