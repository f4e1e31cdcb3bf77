#!/usr/bin/python3
"""envprobe vs blackbox_exporter: CPU per fresh-connection HTTP(S) probe against one loopback nginx.

Started by bench/run.sh (which builds envprobe); see bench/README.md for what is measured and how.
Standard library only. Every process it starts is stopped on exit, also on Ctrl-C or SIGTERM.
"""

import argparse
import asyncio
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

from benchlib import *  # noqa: F401,F403  (processes, /proc, metrics text, configs)
from bench_report import combine, machine, median, report
import timing


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
    # Its history store in the run's work dir, new for every start (not ./data where run from).
    storage = tempfile.mkdtemp(prefix=f"{name}-data-", dir=work)
    proc = procs.start(name, [args.envprobe, "run", f"--config.file={conf}",
                              f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                              f"--storage.path={storage}"], log)
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
    p.add_argument("--timing-probes", type=int, default=60,
                   help="probes of the 200 ms timing target (default 60; 0 skips the row)")
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
    rows, scale, runs, timed = [], None, {}, None
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
        if args.timing_probes > 0:
            print(f"… timing: {args.timing_probes} probes of a 200 ms target", file=sys.stderr,
                  flush=True)
            timed = timing.timing_phase(procs, args, work, nginx_port, args.timing_probes)
        if args.scale_targets > 0:
            print(f"… envprobe with {args.scale_targets:,} targets (RSS per target)", file=sys.stderr,
                  flush=True)
            scale = scale_phase(procs, args, work, nginx_port)
    finally:
        procs.stop_all()
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)
    report(args, rows, scale)
    if timed:
        timing.print_timing(timed)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "runs": runs, "scale": scale, "timing": timed,
                       "machine": machine()}, f, indent=2)


if __name__ == "__main__":
    main()
