#!/usr/bin/python3
"""envprobe at scale: load time, memory per target, scrape cost and the loop stall a scrape causes.

Started by `bench/run.sh scale` (which builds envprobe); see bench/README.md. For each size
(--targets 10000,100000,…) it writes a catalog of N targets pinned to one loopback nginx, starts
the agent, and measures: load and ready time, peak RSS while loading, RSS per target after a
round of probes and after scrapes, /metrics size (plain and asked for gzip), CPU and wall time per
scrape, scheduler lag p99 without and with scrapes, and probes/s achieved. A memory guard skips a
size that would not fit and kills the agent before it can exhaust the machine. Standard library
only; every process started is stopped on exit, also on Ctrl-C or SIGTERM.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import *  # noqa: F401,F403,E402
from bench_report import machine, median  # noqa: E402
import scale_report  # noqa: E402
from bench import start_nginx  # noqa: E402

GIB = 1024 * 1024  # KiB
DEFAULT_KIB_PER_TARGET = 8  # before any size ran: about 4x the per-target peak measured at 100k


class Stopped(Exception):
    """The memory guard killed the agent (or the agent died): the size's run ends here."""


class MemoryGuard:
    """Polls the agent's VmRSS and the machine's MemAvailable every 0.5 s; kills the agent
    (SIGKILL, its own pid) when RSS passes limit_kib or MemAvailable falls below floor_kib."""

    def __init__(self, proc, limit_kib, floor_kib):
        self.proc, self.limit, self.floor = proc, limit_kib, floor_kib
        self.tripped = None
        self.max_rss = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self):
        while not self._done.wait(0.5):
            if self.proc.poll() is not None:
                return
            try:
                rss = status_kib(self.proc.pid, "VmRSS")
            except OSError:
                return
            self.max_rss = max(self.max_rss, rss)
            available = meminfo_kib("MemAvailable")
            if rss > self.limit:
                self.tripped = (f"stopped: RSS {rss / GIB:.2f} GiB exceeded the guard "
                                f"({self.limit / GIB:.2f} GiB)")
            elif available < self.floor:
                self.tripped = (f"stopped: the machine's MemAvailable fell to {available / GIB:.2f} "
                                f"GiB (guard floor {self.floor / GIB:.2f} GiB) at agent RSS "
                                f"{rss / GIB:.2f} GiB")
            if self.tripped:
                self.proc.kill()
                return

    def check(self):
        if self.tripped:
            raise Stopped(self.tripped)
        if self.proc.poll() is not None:
            raise Stopped(f"stopped: the agent exited with status {self.proc.returncode}")

    def sleep(self, seconds):
        end = time.monotonic() + seconds
        while True:
            self.check()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))

    def stop(self):
        self._done.set()
        self._thread.join()


def write_catalog(path, n, per_service, interval, timeout, nginx_port):
    """N targets: services of per_service hostnames each (the compact form: one service, one
    check, many hostnames), every hostname pinned to nginx with `backends`."""
    check = "{ name: home, http: { scheme: http, path: /, expect: { status: [200] } } }"
    with open(path, "w") as f:
        f.write(conf_head(interval, timeout))
        for first in range(0, n, per_service):
            names = [f"h{i:07d}.bench.test" for i in range(first, min(n, first + per_service))]
            rows = ",\n          ".join(", ".join(names[i:i + 8]) for i in range(0, len(names), 8))
            f.write(f"  - name: grp{first // per_service:05d}\n"
                    f"    hostnames:\n"
                    f"      internal: [\n          {rows} ]\n"
                    f"      public: []\n"
                    f"    backends: {{ bench: [\"127.0.0.1:{nginx_port}\"] }}\n"
                    f"    checks: [ {check} ]\n")
    return os.path.getsize(path)


def log_line(log_path, msg):
    """The first JSON log line whose msg is `msg`, or None."""
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                if f'"{msg}"' in line:
                    try:
                        return json.loads(line)
                    except ValueError:
                        return {}
    except OSError:
        pass
    return None


def ready_answers(port):
    try:
        return http_get(f"http://127.0.0.1:{port}/-/ready", 5)[0] == 200
    except OSError:  # urllib raises HTTPError (an OSError) for the 503 before the targets are loaded
        return False


def timed_scrape(proc, port, gzip, idle_cpu_rate):
    """One scrape, with the agent's CPU around it less what probing costs in the same time."""
    c0 = cpu_ticks(proc.pid)
    s = stream_scrape(port, gzip=gzip)
    cpu = (cpu_ticks(proc.pid) - c0) / CLK_TCK
    s["cpu"] = cpu
    s["cpu_net"] = max(0.0, cpu - idle_cpu_rate * s["wall"])
    s["gzip_asked"] = gzip
    del s["lines"]
    return s


def run_size(procs, args, work, nginx_port, n, quiet, duration, limit_kib, floor_kib):
    """One agent with n targets: load, a quiet round of probes, then scrapes for `duration`."""
    out = {"targets": n}
    conf = os.path.join(work, f"scale-{n}.yaml")
    out["catalog_bytes"] = write_catalog(conf, n, args.hostnames_per_service, args.interval,
                                         min(5.0, args.interval), nginx_port)
    port = free_port()
    log = os.path.join(work, f"scale-{n}.log")
    started = time.monotonic()
    proc = procs.start(f"envprobe-{n}", [args.envprobe, "run", f"--config.file={conf}",
                                         f"--web.listen-address=127.0.0.1:{port}",
                                         "--log.level=info", "--log.format=json",
                                         f"--storage.path={work}/data-{n}"], log)
    guard = MemoryGuard(proc, limit_kib, floor_kib)
    try:
        started_line = None
        while True:
            guard.check()
            if started_line is None:
                started_line = log_line(log, "starting envprobe")
                if started_line is not None:
                    loaded_at = time.monotonic()
                    out["load_s"] = loaded_at - started
                    out["log_targets"] = started_line.get("targets")
            if started_line is not None and ready_answers(port):
                break
            if time.monotonic() - started > args.ready_timeout:
                raise Stopped(f"stopped: not ready after {args.ready_timeout:.0f} s")
            time.sleep(0.1)
        out["ready_s"] = time.monotonic() - started
        out["load_hwm_kib"] = status_kib(proc.pid, "VmHWM")
        # The first round: each target's first run is at its phase within its interval, so it
        # takes about one interval; the agent logs its end. Overloaded, it may take longer.
        first_round_limit = time.monotonic() + 3 * args.interval + 30
        while log_line(log, "first round started") is None:
            guard.check()
            if time.monotonic() > first_round_limit:
                out["first_round_s"] = None
                break
            time.sleep(0.2)
        else:
            out["first_round_s"] = time.monotonic() - started
        ready_at = time.monotonic()
        cpu_ready = cpu_ticks(proc.pid)
        # Quiet: no scrape at all, so the first scrape's histogram is the lag of a loop that was
        # never scraped, and RSS is that of an agent that has probed every target once.
        guard.sleep(quiet)
        out["rss_probed_kib"] = status_kib(proc.pid, "VmRSS")
        before = time.monotonic()
        idle_rate = (cpu_ticks(proc.pid) - cpu_ready) / CLK_TCK / (before - ready_at)
        out["idle_cpu_cores"] = idle_rate
        first = timed_scrape(proc, port, False, idle_rate)
        guard.check()
        out["envprobe_targets"] = total(first, "envprobe_targets")
        out["quiet_lag_p50"] = histogram_quantile(0.5, [], lag_buckets(first))
        out["quiet_lag_p99"] = histogram_quantile(0.99, [], lag_buckets(first))
        out["quiet_probes_per_s"] = total(first, "envprobe_probes_total") / (first["at"] - loaded_at)
        scrapes = [first]
        k = 1
        while True:
            due = first["at"] + k * args.scrape_interval
            if due > first["at"] + duration:
                break
            guard.sleep(max(0.0, due - time.monotonic()))
            scrapes.append(timed_scrape(proc, port, k % 2 == 1, idle_rate))
            guard.check()
            k += 1
        last = scrapes[-1]
        out["rss_scraped_kib"] = status_kib(proc.pid, "VmRSS")
        out["hwm_kib"] = status_kib(proc.pid, "VmHWM")
        out["scrapes"] = [{k: v for k, v in x.items() if k != "samples"} for x in scrapes]
        out["scraped_lag_p50"] = histogram_quantile(0.5, lag_buckets(first), lag_buckets(last))
        out["scraped_lag_p99"] = histogram_quantile(0.99, lag_buckets(first), lag_buckets(last))
        span = last["at"] - first["at"]
        out["scraped_probes_per_s"] = ((total(last, "envprobe_probes_total")
                                        - total(first, "envprobe_probes_total")) / span
                                       if span > 0 else None)
        out["failed"] = total(last, "envprobe_probes_total", result="failure")
        out["skipped"] = total(last, "envprobe_skipped_runs_total")
    except Stopped as e:
        out["stopped"] = str(e)
    except OSError as e:  # a scrape cut short: by the guard's kill, or the agent died
        time.sleep(0.6)
        out["stopped"] = guard.tripped or (f"stopped: {e}" if proc.poll() is None else
                                           f"stopped: the agent exited with status "
                                           f"{proc.returncode} ({e})")
    finally:
        guard.stop()
        out["max_rss_kib"] = max(guard.max_rss, out.get("hwm_kib", 0), out.get("load_hwm_kib", 0))
        procs.stop(proc, grace=30)
        os.unlink(conf)
    out["expected_probes_per_s"] = n / args.interval
    return out


def summarize(row, base):
    """Per-target figures against the 1-target agent; scrape medians by kind."""
    n = row["targets"]
    if "rss_probed_kib" in row:
        row["kib_per_target_probed"] = (row["rss_probed_kib"] - base["rss_probed_kib"]) / n
    if "rss_scraped_kib" in row:
        row["kib_per_target_scraped"] = (row["rss_scraped_kib"] - base["rss_scraped_kib"]) / n
    for kind, asked in (("plain", False), ("gzip", True)):
        s = [x for x in row.get("scrapes", []) if x["gzip_asked"] == asked]
        if s:
            row[f"{kind}_bytes"] = median([x["bytes"] for x in s])
            row[f"{kind}_wire"] = median([x["wire"] for x in s])
            row[f"{kind}_encoding"] = s[-1]["encoding"]
            row[f"{kind}_cpu_s"] = median([x["cpu_net"] for x in s])
            row[f"{kind}_wall_s"] = median([x["wall"] for x in s])
            row[f"{kind}_count"] = len(s)


def parse_sizes(text):
    try:
        sizes = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of target counts: {text!r}")
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"target counts must be positive: {text!r}")
    return sorted(sizes)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envprobe", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "..", "build", "envprobe"))
    p.add_argument("--targets", type=parse_sizes, default=[10000, 100000],
                   help="sizes, comma-separated (default 10000,100000; add 1000000 if it fits)")
    p.add_argument("--interval", type=parse_duration, default=60.0,
                   help="probe interval of every target (default 60s); rate = N/interval")
    p.add_argument("--scrape-interval", type=parse_duration, default=15.0,
                   help="time between scrapes in the scraped window (default 15s)")
    p.add_argument("--duration", type=parse_duration, default=120.0,
                   help="the scraped window (default 120s); it follows one quiet interval")
    p.add_argument("--quiet", type=parse_duration, default=30.0,
                   help="the window without scrapes after ready (default 30s)")
    p.add_argument("--hostnames-per-service", type=int, default=1000,
                   help="the catalog's compact form: hostnames per service (default 1000)")
    p.add_argument("--mem-limit-gib", type=float,
                   help="never let the agent's RSS pass this (default: MemAvailable − margin)")
    p.add_argument("--margin-gib", type=float,
                   help="memory left to the machine (default max(3 GiB, 15%% of MemTotal))")
    p.add_argument("--ready-timeout", type=parse_duration, default=900.0,
                   help="how long loading may take (default 15m)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--workdir", help="where configs and logs go (default: a new temp dir, removed)")
    p.add_argument("--curl-floor", help=argparse.SUPPRESS)
    args = p.parse_args()
    if not os.access(args.envprobe, os.X_OK):
        raise SystemExit(f"missing: {args.envprobe}")
    if not os.access(NGINX, os.X_OK):
        raise SystemExit(f"missing: {NGINX} (Debian package nginx-light)")
    args.envprobe = os.path.abspath(args.envprobe)
    quiet = args.quiet
    total_kib = meminfo_kib("MemTotal")
    margin = (args.margin_gib * GIB if args.margin_gib is not None
              else max(3 * GIB, 0.15 * total_kib))
    floor = margin * 0.75

    own_workdir = args.workdir is None
    work = args.workdir or tempfile.mkdtemp(prefix="envprobe-scale-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = Processes()
    rows, base = [], None
    try:
        _, nginx_port = start_nginx(procs, work)
        print("… envprobe with 1 target (the baseline)", file=sys.stderr, flush=True)
        base = run_size(procs, args, work, nginx_port, 1, 5.0, args.scrape_interval,
                        4 * GIB, floor)
        if "stopped" in base:
            raise SystemExit(f"the 1-target baseline did not run: {base['stopped']}")
        per_target, measured_at, stopped_at = DEFAULT_KIB_PER_TARGET, None, None
        for n in args.targets:
            if stopped_at:
                line = (f"skipped: {n:,} targets: the guard stopped the run at {stopped_at:,}")
                print(line, file=sys.stderr, flush=True)
                rows.append({"targets": n, "skipped_size": line})
                continue
            available = meminfo_kib("MemAvailable")
            budget = available - margin
            if args.mem_limit_gib is not None:
                budget = min(budget, args.mem_limit_gib * GIB)
            estimate = base["max_rss_kib"] + per_target * n * 1.25
            basis = (f"{per_target:.1f} KiB/target peak at {measured_at:,}" if measured_at
                     else f"a conservative {per_target:.0f} KiB/target")
            if estimate > budget:
                line = (f"skipped: {n:,} targets would need about {estimate / GIB:.1f} GiB "
                        f"({basis}, +25%); the guard allows {max(0, budget) / GIB:.1f} GiB "
                        f"(MemAvailable {available / GIB:.1f} GiB − margin {margin / GIB:.1f} GiB"
                        + (f", --mem-limit-gib {args.mem_limit_gib:g}" if args.mem_limit_gib
                           is not None else "") + ")")
                print(line, file=sys.stderr, flush=True)
                rows.append({"targets": n, "skipped_size": line, "estimate_kib": estimate})
                continue
            print(f"… envprobe with {n:,} targets (estimate {estimate / GIB:.1f} GiB, guard "
                  f"{budget / GIB:.1f} GiB)", file=sys.stderr, flush=True)
            row = run_size(procs, args, work, nginx_port, n, quiet, args.duration, budget, floor)
            row["guard_kib"], row["estimate_kib"] = budget, estimate
            summarize(row, base)
            rows.append(row)
            if "stopped" in row:
                print(row["stopped"], file=sys.stderr, flush=True)
                stopped_at = n
            else:
                per_target = max(0.5, (row["max_rss_kib"] - base["max_rss_kib"]) / n)
            measured_at = n
    finally:
        procs.stop_all()
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)
    summarize(base, base)
    scale_report.report(args, quiet, margin, base, rows, machine())
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"base": base, "rows": rows, "machine": machine(),
                       "interval": args.interval, "scrape_interval": args.scrape_interval,
                       "duration": args.duration, "quiet": quiet}, f, indent=2)


if __name__ == "__main__":
    main()
