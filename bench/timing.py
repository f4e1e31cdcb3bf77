#!/usr/bin/python3
"""How exact envprobe's probe_duration_seconds is: a target that answers after exactly 200 ms.

`bench/run.sh timing` runs it alone; `bench/run.sh` runs it after the table (--timing-probes 0
leaves it out). bench/slow_server.py answers every request 200 ms after its head arrived and
prints its own error per answer; the agent probes it every 1 s while probing --targets nginx
targets (1,000 probes/s by default) as background load. After each of its probes the agent's
/metrics is read (300 ms after the answer, so the read never overlaps the next probe) for that
target's probe_duration_seconds. Reported: p50/p99 of probe_duration_seconds − 200 ms, of the
server's own error, and of their difference per probe (what the agent adds). Standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import *  # noqa: F401,F403,E402

DELAY = 0.2
SLOW = b'service="slow"'
HERE = os.path.dirname(os.path.abspath(__file__))


def quantile(values, q):
    """Linear interpolation between the closest ranks (numpy's default)."""
    values = sorted(values)
    if not values:
        return None
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


def answers(log_path):
    """The slow server's answers so far: (received, sent, error) in monotonic seconds."""
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "answered":
                out.append(tuple(float(v) for v in parts[1:]))
    return out


def slow_sample(scrape):
    """probe_duration_seconds and the last-run timestamp of the slow target, from extra lines."""
    duration = last = None
    for raw in scrape["lines"]:
        m = SAMPLE.match(raw.decode(errors="replace"))
        if not m:
            continue
        if m.group(1) == "probe_duration_seconds":
            duration = float(m.group(3))
        elif m.group(1) == "envprobe_probe_last_run_timestamp_seconds":
            last = float(m.group(3))
    return duration, last


def is_slow_line(raw):
    return ((raw.startswith(b"probe_duration_seconds{")
             or raw.startswith(b"envprobe_probe_last_run_timestamp_seconds{")) and SLOW in raw)


def timing_phase(procs, args, work, nginx_port, probes):
    """The slow target among args.targets nginx targets; `probes` of its probes measured."""
    from bench import start_envprobe  # bench.py imports this module; import late
    slow_port = free_port()
    slow_log = os.path.join(work, "slow_server.log")
    slow = procs.start("slow_server", [sys.executable, "-B", os.path.join(HERE, "slow_server.py"),
                                       str(slow_port), str(DELAY)], slow_log)
    wait_until("slow_server", lambda: "listening" in tail(slow_log), slow, 10, slow_log)
    conf = os.path.join(work, "envprobe-timing.yaml")
    write_envprobe_conf(conf, args.targets, args.interval, min(5.0, args.interval), nginx_port)
    with open(conf, "a") as f:
        f.write("  - name: slow\n"
                "    hostnames: { internal: [\"slow.bench.test\"], public: [] }\n"
                f"    backends: {{ bench: [\"127.0.0.1:{slow_port}\"] }}\n"
                "    checks: [ { name: home, interval: 1s, timeout: 1s, "
                "http: { scheme: http, path: /, expect: { status: [200] } } } ]\n")
    proc, port, _ = start_envprobe(procs, args, work, conf, "envprobe-timing", args.targets + 1, 120)
    time.sleep(args.warmup)
    seen = len(answers(slow_log))
    pairs, first, last, previous_run = [], None, None, None
    deadline = time.monotonic() + probes * 2 + 30
    while len(pairs) < probes and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("envprobe (timing) exited; log:\n" + tail(os.path.join(
                work, "envprobe-timing.log")))
        got = answers(slow_log)
        if len(got) <= seen:
            time.sleep(0.02)
            continue
        seen = len(got)
        received, sent, server_error = got[-1]
        time.sleep(max(0.0, sent + 0.3 - time.monotonic()))
        scrape = stream_scrape(port, extra=is_slow_line)
        duration, run = slow_sample(scrape)
        first = first or scrape
        last = scrape
        if duration is None or run is None or run == previous_run:
            continue
        if len(answers(slow_log)) != seen:
            continue  # another answer went out meanwhile: which probe this is is not certain
        previous_run = run
        pairs.append({"duration": duration, "server_error": server_error,
                      "agent_error": duration - DELAY, "net": duration - DELAY - server_error})
    procs.stop(proc)
    procs.stop(slow)
    if not pairs:
        raise SystemExit("timing: no probe of the slow target was read")
    span = last["at"] - first["at"]
    result = {
        "probes": len(pairs), "delay": DELAY, "targets": args.targets,
        "background_asked": args.targets / args.interval,
        "background_probes_per_s": ((total(last, "envprobe_probes_total")
                                     - total(first, "envprobe_probes_total")) / span
                                    if span > 0 else None),
        "lag_p99": histogram_quantile(0.99, lag_buckets(first), lag_buckets(last)),
        "scrape_bytes": last["bytes"], "pairs": pairs,
    }
    for key in ("agent_error", "server_error", "net"):
        for q in (0.5, 0.99):
            result[f"{key}_p{round(q * 100)}"] = quantile([p[key] for p in pairs], q)
    return result


def ms(seconds):
    return "—" if seconds is None else f"{seconds * 1000:+.2f} ms"


def print_timing(r):
    print()
    print(f"Timing accuracy: a target that answers exactly {r['delay'] * 1000:.0f} ms after the "
          f"request (bench/slow_server.py), probed every 1s while {r['targets']:,} nginx targets "
          f"ask {r['background_asked']:.0f} probes/s "
          f"(achieved {r['background_probes_per_s'] or 0:.0f}/s, lag p99 "
          f"{ms(r['lag_p99'])[1:]}), {r['probes']} probes:")
    print()
    print("| probe_duration_seconds − 200 ms | p50 | p99 |")
    print("|---|---:|---:|")
    print(f"| envprobe, as measured | {ms(r['agent_error_p50'])} | {ms(r['agent_error_p99'])} |")
    print(f"| the test server's own error (answer sent − head received − 200 ms) | "
          f"{ms(r['server_error_p50'])} | {ms(r['server_error_p99'])} |")
    print(f"| **envprobe less the server's error, per probe** | **{ms(r['net_p50'])}** | "
          f"**{ms(r['net_p99'])}** |")
    print()
    print(f"- the agent's /metrics ({r['scrape_bytes'] / 1e6:.1f} MB) is read 300 ms after each "
          "answer, between two probes of the slow target; what envprobe adds is connect, sending "
          "the request, reading the answer and its own loop's delay in noticing each.")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envprobe", default=os.path.join(HERE, "..", "build", "envprobe"))
    p.add_argument("--targets", type=int, default=1000, help="background nginx targets (1000)")
    p.add_argument("--interval", type=parse_duration, default=1.0,
                   help="their interval (default 1s): background probes/s = targets/interval")
    p.add_argument("--probes", type=int, default=60, help="probes of the slow target (60)")
    p.add_argument("--warmup", type=parse_duration, default=5.0, help="before measuring (5s)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--workdir", help="where configs and logs go (default: a new temp dir, removed)")
    p.add_argument("--curl-floor", help=argparse.SUPPRESS)
    args = p.parse_args()
    if not os.access(args.envprobe, os.X_OK):
        raise SystemExit(f"missing: {args.envprobe}")
    args.envprobe = os.path.abspath(args.envprobe)
    from bench import start_nginx
    own_workdir = args.workdir is None
    work = args.workdir or tempfile.mkdtemp(prefix="envprobe-timing-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = Processes()
    try:
        _, nginx_port = start_nginx(procs, work)
        print(f"… timing: {args.probes} probes of a 200 ms target", file=sys.stderr, flush=True)
        result = timing_phase(procs, args, work, nginx_port, args.probes)
    finally:
        procs.stop_all()
        if own_workdir:
            shutil.rmtree(work, ignore_errors=True)
    print_timing(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
