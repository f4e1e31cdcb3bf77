#!/usr/bin/python3
"""envprobe vs blackbox_exporter: CPU per fresh-connection HTTP(S) probe against one loopback nginx.

Started by bench/run.sh (which builds envprobe); see bench/README.md for what is measured and how.
Standard library only. Every process it starts is stopped on exit, also on Ctrl-C or SIGTERM.
"""

import argparse
import asyncio
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

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


def write_envprobe_conf(path, targets, interval, timeout, nginx_port, ca_file=None):
    """N targets pinned to nginx; with ca_file, an https check that trusts that CA file."""
    check = ("{ name: home, http: { scheme: http, path: /, expect: { status: [200] } } }"
             if not ca_file else
             f"{{ name: home, http: {{ scheme: https, path: /, tls: {{ ca_file: \"{ca_file}\" }}, "
             "expect: { status: [200] } } }")
    with open(path, "w") as f:
        f.write("environment: bench\n"
                f"defaults: {{ interval: {format_duration(interval)}, "
                f"timeout: {format_duration(timeout)} }}\n"
                "scheduler: { jitter: 0.0, max_inflight: 1000 }\n"
                "environments: { bench: { tier: nonprod } }\n"
                "services:\n")
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


# ---------------------------------------------------------------------------------------------
# Phases


def start_nginx(procs, work, tls=None):
    """nginx on a free port; with tls (make_pki's paths), also HTTPS on tls["port"] (set here)."""
    prefix = os.path.join(work, "nginx")
    os.makedirs(prefix, exist_ok=True)
    port = free_port()
    if tls:
        tls["port"] = free_port()
    conf = write_nginx_conf(prefix, port, tls)
    log = os.path.join(work, "nginx.log")
    proc = procs.start("nginx", [NGINX, "-p", prefix, "-c", conf, "-g", "daemon off;"], log)
    wait_until("nginx", lambda: http_get(f"http://127.0.0.1:{port}/", 2)[0] == 200, proc, 10, log)
    if tls:
        wait_until("nginx (https)",
                   lambda: socket.create_connection(("127.0.0.1", tls["port"]), 2).close() is None,
                   proc, 10, log)
        tls["version"] = tls_version(tls["port"], tls["ca"])
    return proc, port


def tls_version(port, ca):
    """The protocol nginx's HTTPS server settles on with a client that offers TLS 1.2 and 1.3."""
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with context.wrap_socket(raw, server_hostname="svc000000.bench.test") as conn:
            return conn.version()


def nginx_pids(nginx):
    return [nginx.pid] + children(nginx.pid)


def start_envprobe(procs, args, work, conf, name, expect_targets, ready_timeout):
    port = free_port()
    log = os.path.join(work, f"{name}.log")
    proc = procs.start(name, [args.envprobe, "run", f"--config.file={conf}",
                              f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], log)
    started = time.monotonic()

    def ready():
        return total(scrape_envprobe(port), "envprobe_targets") == expect_targets

    wait_until(f"envprobe ({name})", ready, proc, ready_timeout, log)
    return proc, port, time.monotonic() - started


def https_label(tls, bundle):
    if not tls:
        return ""
    return f" (https, {tls['bundle_certs']}-cert bundle)" if bundle else " (https)"


def envprobe_phase(procs, args, work, nginx, nginx_port, tls=None, bundle=False):
    """With tls: HTTPS probes whose check trusts the bench CA (bundle: the system bundle + it)."""
    conf = os.path.join(work, "envprobe.yaml")
    write_envprobe_conf(conf, args.targets, args.interval, min(5.0, args.interval),
                        tls["port"] if tls else nginx_port,
                        (tls["bundle"] if bundle else tls["ca"]) if tls else None)
    proc, port, _ = start_envprobe(procs, args, work, conf, "envprobe", args.targets, 120)
    # Scraped during the warm-up as Prometheus would, so RSS is that of an agent being scraped
    # (each of civetweb's worker threads keeps its own malloc arena after serving a scrape).
    warmup_end = time.monotonic() + args.warmup
    scrape_cpu = []
    for i in range(args.warmup_scrapes):
        c0 = cpu_ticks(proc.pid)
        scrape_envprobe(port)
        scrape_cpu.append((cpu_ticks(proc.pid) - c0) / CLK_TCK)
        time.sleep(max(0.0, (warmup_end - time.monotonic()) / (args.warmup_scrapes - i)))
    time.sleep(max(0.0, warmup_end - time.monotonic()))
    window = CpuWindow([proc.pid] + nginx_pids(nginx))
    # The scrapes (megabytes of per-target series) are kept out of the CPU window: scrape, then
    # read CPU; at the end read CPU, then scrape. Probes are scaled to the CPU window's length.
    first = scrape_envprobe(port)
    window.start()
    time.sleep(args.window)
    window.stop()
    rss = status_kib(proc.pid, "VmRSS")
    last = scrape_envprobe(port)
    procs.stop(proc)
    counted = total(last, "envprobe_probes_total") - total(first, "envprobe_probes_total")
    probes = counted * window.seconds / (last["at"] - first["at"])
    failed = (total(last, "envprobe_probes_total", result="failure")
              - total(first, "envprobe_probes_total", result="failure"))
    b0, b1 = lag_buckets(first), lag_buckets(last)
    return {
        "agent": f"envprobe {args.envprobe_version}" + https_label(tls, bundle),
        "https": "bundle" if tls and bundle else "ca" if tls else "",
        "targets": str(args.targets),
        "probes_per_s": probes / window.seconds,
        "cpu_us_per_probe": window.cpu_seconds([proc.pid]) * 1e6 / probes if probes else None,
        "rss_mib": rss / 1024,
        "lag_p50": histogram_quantile(0.5, b0, b1),
        "lag_p99": histogram_quantile(0.99, b0, b1),
        "failed": failed,
        "skipped": total(last, "envprobe_skipped_runs_total")
                   - total(first, "envprobe_skipped_runs_total"),
        "nginx_us_per_probe": window.cpu_seconds(nginx_pids(nginx)) * 1e6 / probes if probes else None,
        "scrape_bytes": last["bytes"],
        "scrape_cpu_ms": median(scrape_cpu) * 1000 if scrape_cpu else None,
        "other_cores": window.other_cores,
    }


class ProbeDriver:
    """Asks blackbox_exporter for `rate` probes a second, evenly spaced, as `targets` targets would
    be scraped: each target every targets/rate seconds, skipped while its previous probe still runs
    (as Prometheus and envprobe do). Keep-alive connections to the exporter, one per busy target."""

    def __init__(self, port, target, rate, targets, module="http_2xx"):
        self.port = port
        self.rate = rate
        query = urllib.parse.urlencode({"target": target, "module": module})
        self.request = (f"GET /probe?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        "User-Agent: envprobe-bench\r\n\r\n").encode()
        self.busy = [False] * targets
        self.idle = []
        self.completed = self.ok = self.failed = self.skipped = 0
        self.tasks = set()

    async def run(self, stop):
        loop = asyncio.get_running_loop()
        start = loop.time()
        issued = 0
        tick = min(0.002, 1.0 / self.rate)
        while not stop.is_set():
            due = int((loop.time() - start) * self.rate) + 1
            while issued < due:
                target = issued % len(self.busy)
                issued += 1
                if self.busy[target]:
                    self.skipped += 1
                    continue
                self.busy[target] = True
                task = asyncio.create_task(self.one(target))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            await asyncio.sleep(tick)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=10)
        for _, w in self.idle:
            w.close()

    async def one(self, target):
        conn = self.idle.pop() if self.idle else None
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = conn
            writer.write(self.request)
            body = await read_response(reader)
            self.idle.append(conn)
            success = b"\nprobe_success 1" in body
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if conn:
                conn[1].close()
            success = False
        self.busy[target] = False
        self.completed += 1
        if success:
            self.ok += 1
        else:
            self.failed += 1


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        # size 0 consumed its CRLF above (no trailers are sent)
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    if status != 200:
        raise ValueError(f"HTTP {status}")
    return body


def blackbox_phase(procs, args, work, nginx, nginx_port, tls=None, bundle=False):
    """With tls: module https_2xx, tls_config.ca_file = the bench CA; with bundle: module
    https_2xx_system (no tls_config), the exporter's system roots being the bundle
    (SSL_CERT_FILE; SSL_CERT_DIR an empty directory), which Go loads once per process."""
    conf = os.path.join(work, "blackbox.yml")
    write_blackbox_conf(conf, tls["ca"] if tls else None)
    port = free_port()
    log = os.path.join(work, "blackbox.log")
    env = None
    if bundle:
        env = dict(os.environ, SSL_CERT_FILE=tls["bundle"], SSL_CERT_DIR=tls["empty_dir"])
    proc = procs.start("blackbox_exporter", [BLACKBOX, f"--config.file={conf}",
                                             f"--web.listen-address=127.0.0.1:{port}",
                                             "--log.level=warn"], log, env)
    wait_until("blackbox_exporter", lambda: http_get(f"http://127.0.0.1:{port}/-/healthy", 2)[0] == 200,
               proc, 20, log)
    rate = args.targets / args.interval
    if tls:
        driver = ProbeDriver(port, f"https://127.0.0.1:{tls['port']}/", rate, args.targets,
                             "https_2xx_system" if bundle else "https_2xx")
    else:
        driver = ProbeDriver(port, f"http://127.0.0.1:{nginx_port}/", rate, args.targets)
    window = CpuWindow([proc.pid, os.getpid()] + nginx_pids(nginx))

    async def measure():
        stop = asyncio.Event()
        running = asyncio.create_task(driver.run(stop))
        await asyncio.sleep(args.warmup)
        window.start()
        n0, f0, s0 = driver.completed, driver.failed, driver.skipped
        await asyncio.sleep(args.window)
        window.stop()
        n1, f1, s1 = driver.completed, driver.failed, driver.skipped
        rss = status_kib(proc.pid, "VmRSS")
        stop.set()
        await running
        return n1 - n0, f1 - f0, s1 - s0, rss

    probes, failed, skipped, rss = asyncio.run(measure())
    procs.stop(proc)
    return {
        "agent": f"blackbox_exporter {args.blackbox_version}" + https_label(tls, bundle),
        "https": "bundle" if tls and bundle else "ca" if tls else "",
        "targets": "—",
        "probes_per_s": probes / window.seconds,
        "cpu_us_per_probe": window.cpu_seconds([proc.pid]) * 1e6 / probes if probes else None,
        "rss_mib": rss / 1024,
        "lag_p50": None,
        "lag_p99": None,
        "failed": failed,
        "nginx_us_per_probe": window.cpu_seconds(nginx_pids(nginx)) * 1e6 / probes if probes else None,
        "skipped": skipped,
        "driver_cpu_share": window.cpu_seconds([os.getpid()]) / window.seconds,
        "target_rate": rate,
        "other_cores": window.other_cores,
    }


def wrk_phase(procs, args, work, nginx, nginx_port):
    """A bare client as the floor: wrk, one new connection per request, as fast as it goes."""
    log = os.path.join(work, "wrk.log")
    duration = max(3, int(args.window / 4))
    window = CpuWindow(nginx_pids(nginx))
    window.start()
    proc = procs.start("wrk", [WRK, "-t1", "-c16", f"-d{duration}s", "-H", "Connection: close",
                               f"http://127.0.0.1:{nginx_port}/"], log)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    window.stop()
    procs.stop(proc)
    out = tail(log, 50)
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if proc.returncode != 0 or not m:
        print(f"wrk failed; output:\n{out}", file=sys.stderr)
        return None
    requests = int(m.group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return {
        "agent": "wrk (bare client, max rate; reference)",
        "targets": "—",
        "probes_per_s": requests / window.seconds,
        "cpu_us_per_probe": (usage.ru_utime + usage.ru_stime) * 1e6 / requests,
        "rss_mib": usage.ru_maxrss / 1024,
        "lag_p50": None,
        "lag_p99": None,
        "failed": failed,
        "nginx_us_per_probe": window.cpu_seconds(nginx_pids(nginx)) * 1e6 / requests,
        "other_cores": max(0.0, window.other_cores - (usage.ru_utime + usage.ru_stime) / window.seconds),
    }


def curl_floor_phase(procs, args, work, nginx, nginx_port):
    """libcurl with nothing around it (bench/curl_floor.c): the same paced, fresh-connection probes."""
    if not args.curl_floor:
        return None
    log = os.path.join(work, "curl_floor.log")
    seconds = args.warmup + args.window
    window = CpuWindow(nginx_pids(nginx))
    window.start()
    proc = procs.start("curl_floor", [args.curl_floor, str(nginx_port), str(args.targets),
                                      str(args.targets / args.interval), str(seconds)], log)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    window.stop()
    procs.stop(proc)
    m = re.search(r"completed (\d+) ok (\d+)", tail(log))
    if proc.returncode != 0 or not m:
        print(f"curl_floor failed; output:\n{tail(log)}", file=sys.stderr)
        return None
    completed, ok = int(m.group(1)), int(m.group(2))
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "agent": "libcurl alone (curl_floor.c; reference)",
        "targets": str(args.targets),
        "probes_per_s": completed / window.seconds,
        "cpu_us_per_probe": cpu * 1e6 / completed if completed else None,
        "rss_mib": usage.ru_maxrss / 1024,
        "lag_p50": None,
        "lag_p99": None,
        "failed": completed - ok,
        "nginx_us_per_probe": window.cpu_seconds(nginx_pids(nginx)) * 1e6 / completed if completed else None,
        "other_cores": max(0.0, window.other_cores - cpu / window.seconds),
        "whole_run": True,
    }


def scale_phase(procs, args, work, nginx_port):
    """RSS per configured target: N targets at a long interval versus a 1-target agent."""
    result = {"targets": args.scale_targets, "interval": args.scale_interval}
    for name, n in (("base", 1), ("scale", args.scale_targets)):
        conf = os.path.join(work, f"envprobe-{name}.yaml")
        write_envprobe_conf(conf, n, args.scale_interval, 5.0, nginx_port)
        proc, _, startup = start_envprobe(procs, args, work, conf, f"envprobe-{name}", n,
                                          args.scale_ready_timeout)
        time.sleep(args.settle)
        result[f"{name}_rss_kib"] = status_kib(proc.pid, "VmRSS")
        result[f"{name}_hwm_kib"] = status_kib(proc.pid, "VmHWM")
        result[f"{name}_startup_s"] = startup
        procs.stop(proc)
        os.unlink(conf)
    result["kib_per_target"] = (result["scale_rss_kib"] - result["base_rss_kib"]) / args.scale_targets
    return result


# ---------------------------------------------------------------------------------------------
# Report


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def combine(runs):
    """One row from the rounds of one agent: medians; failures and skips summed; the CPU range."""
    row = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, float) and key not in ("failed", "skipped"):
            row[key] = median([r[key] for r in runs])
    for key in ("failed", "skipped"):
        row[key] = sum(r.get(key, 0) for r in runs)
    cpu = [r["cpu_us_per_probe"] for r in runs if r["cpu_us_per_probe"] is not None]
    row["cpu_range"] = (min(cpu), max(cpu)) if len(cpu) > 1 else None
    row["rounds"] = len(runs)
    return row


def fmt_seconds(s):
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def cpu_range(row):
    low_high = row.get("cpu_range")
    return f" ({low_high[0]:.0f}–{low_high[1]:.0f})" if low_high else ""


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Linux {os.uname().release}"


def report(args, rows, scale):
    print()
    print("## envprobe vs blackbox_exporter: fresh-connection HTTP(S) probes of one loopback nginx")
    print()
    print(f"{machine()}; nginx 1 worker; {args.targets} targets every "
          f"{format_duration(args.interval)} = {args.targets / args.interval:.0f} probes/s asked of "
          f"each agent; {args.window:.0f} s window after {args.warmup:.0f} s warm-up; "
          f"one agent at a time, same nginx; {args.repeat} round(s): medians"
          + (", CPU range in brackets" if args.repeat > 1 else "") + ".")
    print()
    print("| agent | targets | probes/s | CPU µs/probe | RSS MiB | lag p50 | lag p99 "
          "| failed / skipped | nginx CPU µs/probe |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['agent']} | {r['targets']} | {fmt(r['probes_per_s'], '.1f')} | "
              f"{fmt(r['cpu_us_per_probe'], '.1f')}{cpu_range(r)} | {fmt(r['rss_mib'], '.1f')} | "
              f"{fmt_seconds(r['lag_p50'])} | {fmt_seconds(r['lag_p99'])} | "
              f"{r['failed']:.0f} / {r.get('skipped', 0):.0f} | "
              f"{fmt(r['nginx_us_per_probe'], '.1f')} |")
    print()
    https_noted = False
    for r in rows:
        name = r["agent"]
        if r.get("other_cores", 0) > 0.25:
            print(f"- warning: during the {name} windows other processes kept "
                  f"{r['other_cores']:.2f} CPUs busy (median); the 2 CPUs may share a core, so "
                  "CPU per probe is noisier on a busy machine.")
        if r.get("https") and not https_noted:
            https_noted = True
            print(f"- (https) rows: the same nginx serving HTTPS ({args.tls_version}, session tickets "
                  "and cache off) with an ECDSA P-256 certificate for *.bench.test and 127.0.0.1, "
                  "signed by a CA made at the start of the run, a full handshake per probe, chain and name "
                  "verified. (https): envprobe's check has `tls: { ca_file: CA }`, "
                  "blackbox_exporter's module `tls_config: { ca_file: CA }`. (https, N-cert "
                  "bundle): the system CA bundle with the CA appended, as a check that trusts the "
                  "system CAs: envprobe's `ca_file` is that bundle, blackbox_exporter has no "
                  "tls_config and that bundle as its system roots (SSL_CERT_FILE).")
        if r.get("https"):
            continue
        if r["agent"].startswith("envprobe"):
            scrape = (f", about {r['scrape_cpu_ms']:.0f} ms of CPU per scrape"
                      if r.get("scrape_cpu_ms") is not None else "")
            print(f"- envprobe: lag is envprobe_scheduler_lag_seconds (due time to start) over the "
                  f"window; its /metrics is {r['scrape_bytes'] / 1e6:.1f} MB at {r['targets']} "
                  f"targets{scrape}: scrapes are kept out of the window; RSS is after "
                  f"{args.warmup_scrapes + 1} scrapes.")
        if r["agent"].startswith("blackbox"):
            print(f"- blackbox_exporter: asked for /probe?target=…&module=http_2xx "
                  f"{r['target_rate']:.0f} times a second over keep-alive connections, as "
                  f"{args.targets} scrape targets (skipped while the previous probe runs); its CPU "
                  "includes serving /probe, as it does under Prometheus. The driver's own CPU "
                  f"({r['driver_cpu_share'] * 100:.0f}% of a core) is not counted.")
        if r["agent"].startswith("libcurl"):
            print("- libcurl alone: bench/curl_floor.c, the same paced probes with the same curl "
                  "options and nothing else (easy handles reused, no timerfd, no results); CPU over "
                  "its whole run.")
        if r["agent"].startswith("wrk"):
            print("- wrk: `wrk -t1 -c16 -H 'Connection: close'`, flat out, so it never sleeps "
                  "between requests; the floor of a new connection per request.")

    def find(prefix, https):
        return next((r for r in rows if r["agent"].startswith(prefix) and r.get("https", "") == https
                     and r["cpu_us_per_probe"]), None)

    ep, bb = find("envprobe", ""), find("blackbox", "")
    for kind, what in (("ca", "HTTPS (ca_file: the CA)"), ("bundle", "HTTPS (the CA bundle)")):
        eps, bbs = find("envprobe", kind), find("blackbox", kind)
        if not eps:
            continue
        line = f"- envprobe over {what}: {eps['cpu_us_per_probe']:.1f} µs CPU per probe"
        if ep:
            line += f", {eps['cpu_us_per_probe'] / ep['cpu_us_per_probe']:.1f}× its HTTP probe"
        if bbs:
            ratio = bbs["cpu_us_per_probe"] / eps["cpu_us_per_probe"]
            line += f"; blackbox_exporter needs {ratio:.2f}× as much"
        print(line + ".")
    if ep:
        verdict = "meets" if ep["cpu_us_per_probe"] <= DESIGN_TARGET_US else "misses"
        line = (f"- envprobe {verdict} the design target of ≤ {DESIGN_TARGET_US:.0f} µs CPU per probe "
                f"({ep['cpu_us_per_probe']:.1f} µs")
        if bb and bb["cpu_us_per_probe"]:
            line += (f"; blackbox_exporter needs {bb['cpu_us_per_probe'] / ep['cpu_us_per_probe']:.1f}× "
                     "as much")
        print(line + ").")
    if scale:
        print()
        print(f"RSS per target at {scale['targets']:,} targets (interval "
              f"{format_duration(scale['interval'])}): **{scale['kib_per_target']:.2f} KiB** = "
              f"(RSS {scale['scale_rss_kib'] / 1024:.1f} MiB − 1-target RSS "
              f"{scale['base_rss_kib'] / 1024:.1f} MiB) / {scale['targets']:,}; peak (VmHWM) "
              f"{scale['scale_hwm_kib'] / 1024:.1f} MiB; ready {scale['scale_startup_s']:.1f} s "
              "after start.")


# ---------------------------------------------------------------------------------------------


def version_of(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        m = re.search(r"version (\S+)|(\d+\.\d+\.\d+\S*)", out.stdout + out.stderr)
        return (m.group(1) or m.group(2)) if m else "?"
    except OSError:
        return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envprobe", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "build", "envprobe"),
                   help="the envprobe binary (default: build/envprobe)")
    p.add_argument("--targets", type=int, default=1000, help="envprobe targets (default 1000)")
    p.add_argument("--interval", type=parse_duration, default=1.0,
                   help="probe interval of every target (default 1s); rate = targets/interval")
    p.add_argument("--warmup", type=parse_duration, default=5.0, help="warm-up before the window (5s)")
    p.add_argument("--window", type=parse_duration, default=10.0, help="measurement window (10s)")
    p.add_argument("--warmup-scrapes", type=int, default=5,
                   help="envprobe /metrics scrapes during its warm-up, for a steady RSS (default 5)")
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds of every agent, interleaved; the table shows medians (default 3)")
    p.add_argument("--scale-targets", type=int, default=100000,
                   help="targets for the RSS-per-target run (default 100000; 0 skips it)")
    p.add_argument("--scale-interval", type=parse_duration, default=3600.0,
                   help="interval of the RSS-per-target run (default 1h, so it mostly idles)")
    p.add_argument("--scale-ready-timeout", type=parse_duration, default=600.0,
                   help="how long the large config may take to load (default 10m)")
    p.add_argument("--settle", type=parse_duration, default=5.0,
                   help="wait after the agent is ready before reading RSS (default 5s)")
    p.add_argument("--curl-floor", metavar="BINARY",
                   help="bench/curl_floor.c built (run.sh builds it): adds the libcurl-alone row")
    p.add_argument("--skip", action="append", default=[],
                   choices=["envprobe", "blackbox", "curl", "wrk", "envprobe-https", "blackbox-https",
                            "envprobe-https-bundle", "blackbox-https-bundle"],
                   help="leave a row out (repeatable)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--workdir", help="where configs and logs go (default: a new temp dir, removed)")
    args = p.parse_args()

    missing = [path for path in (NGINX, BLACKBOX, OPENSSL) if not os.access(path, os.X_OK)]
    if not os.access(args.envprobe, os.X_OK):
        missing.append(args.envprobe)
    if missing:
        raise SystemExit("missing: " + ", ".join(missing))
    if "wrk" not in args.skip and not os.access(WRK, os.X_OK):
        print("note: wrk not installed (Debian package wrk): its reference row is left out",
              file=sys.stderr)
        args.skip.append("wrk")
    args.envprobe = os.path.abspath(args.envprobe)
    args.envprobe_version = version_of([args.envprobe, "--version"])
    args.blackbox_version = version_of([BLACKBOX, "--version"])

    own_workdir = args.workdir is None
    work = args.workdir or tempfile.mkdtemp(prefix="envprobe-bench-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = Processes()
    rows, scale, runs = [], None, {}
    try:
        https = not {"envprobe-https", "blackbox-https", "envprobe-https-bundle",
                     "blackbox-https-bundle"} <= set(args.skip)
        tls = make_pki(work) if https else None
        nginx, nginx_port = start_nginx(procs, work, tls)
        args.tls_version = tls["version"] if tls else None
        phases = (("envprobe", envprobe_phase),
                  ("envprobe-https", lambda *a: envprobe_phase(*a, tls=tls)),
                  ("envprobe-https-bundle", lambda *a: envprobe_phase(*a, tls=tls, bundle=True)),
                  ("blackbox", blackbox_phase),
                  ("blackbox-https", lambda *a: blackbox_phase(*a, tls=tls)),
                  ("blackbox-https-bundle", lambda *a: blackbox_phase(*a, tls=tls, bundle=True)),
                  ("curl", curl_floor_phase), ("wrk", wrk_phase))
        # Rounds interleave the agents, so a change in the machine's load hits all of them alike.
        for round_ in range(args.repeat):
            for name, phase in phases:
                if name in args.skip:
                    continue
                print(f"… round {round_ + 1}/{args.repeat}: {name}", file=sys.stderr, flush=True)
                row = phase(procs, args, work, nginx, nginx_port)
                if row:
                    runs.setdefault(name, []).append(row)
        rows = [combine(r) for r in runs.values()]
        if args.scale_targets > 0:
            print(f"… envprobe with {args.scale_targets:,} targets (RSS per target)", file=sys.stderr,
                  flush=True)
            scale = scale_phase(procs, args, work, nginx_port)
    finally:
        procs.stop_all()
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)
    report(args, rows, scale)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "runs": runs, "scale": scale, "machine": machine()}, f, indent=2)


if __name__ == "__main__":
    main()
