#!/usr/bin/python3
"""Where envprobe's CPU goes per probe: the benchmark's load, sampled with perf.

Started by `bench/run.sh profile` (see bench/README.md). Runs nginx and envprobe as bench.py does,
records the agent with `perf record --call-graph dwarf`, and sorts every sample into one bucket by
the frames on its stack (a syscall first, then the user-space caller), so the buckets add up to
100% of the agent's CPU. Needs perf (Debian package linux-perf).
"""

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import bench

# (bucket, frames that put a sample in it); the first bucket with a frame on the stack wins.
SYSCALL_BUCKETS = [
    ("kernel: TCP connection (socket, connect, send, recv, close; loopback softirq included)",
     {"__x64_sys_socket", "__x64_sys_connect", "__x64_sys_sendto", "__x64_sys_recvfrom",
      "__x64_sys_close", "__x64_sys_shutdown"}),
    ("kernel: timerfd_settime (timer re-arming)", {"__x64_sys_timerfd_settime"}),
    ("kernel: epoll_wait (sleeping and waking up)", {"__x64_sys_epoll_wait", "__x64_sys_epoll_pwait", "__x64_sys_epoll_pwait2"}),
    ("kernel: epoll_ctl", {"__x64_sys_epoll_ctl"}),
    ("kernel: getsockname, getpeername, getsockopt, setsockopt, fcntl, poll (libcurl's socket "
     "bookkeeping)",
     {"__x64_sys_getsockname", "__x64_sys_getpeername", "__x64_sys_getsockopt",
      "__x64_sys_setsockopt", "__x64_sys_fcntl", "__x64_sys_poll", "__x64_sys_ppoll"}),
]
# Matched as substrings of the frames' symbol names.
USER_BUCKETS = [
    ("user: a new curl easy handle per probe (curl_easy_init, setopt, cleanup; their malloc)",
     ("curl_easy_init", "curl_easy_cleanup", "curl_easy_setopt", "curl_easy_reset",
      "curl_slist_free_all")),
    ("user: result handling (observation, assertions, metrics, status)",
     ("envprobe::Agent::onResult", "envprobe::HttpCheck::finish", "HttpAssertions::evaluate",
      "lambda(CURLcode)")),
    ("user: libcurl transfer processing (multi_socket_action, headers, info_read)",
     ("curl_multi_", "curl_easy_getinfo", "HttpCheck::onHeader", "HttpCheck::onBody")),
    ("user: scheduler (Agent::tick, Scheduler)", ("envprobe::Agent::tick", "envprobe::Scheduler::")),
]


def parse_perf_script(text):
    """Yield (comm, frames leaf first) per sample of `perf script -F comm,tid,ip,sym,dso`."""
    comm, frames = None, []
    for line in text.splitlines():
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif not line[0].isspace():
            comm, frames = line.split()[0], []
        else:
            parts = line.strip().split(" ", 1)
            rest = parts[1] if len(parts) > 1 else ""
            sym, _, dso = rest.rpartition(" (")
            frames.append((sym.split("+0x")[0], dso.rstrip(")")))
    if comm is not None:
        yield comm, frames


def bucket_of(comm, frames):
    if comm.startswith("civetweb"):
        return "civetweb threads (/metrics, status page)"
    names = [sym for sym, _ in frames]
    exact = set(names)
    for bucket, marks in SYSCALL_BUCKETS:
        if exact & marks:
            return bucket
    if any(sym.startswith("__x64_sys_") for sym in names):
        return "kernel: other syscalls"
    for bucket, marks in USER_BUCKETS:
        if any(mark in sym for sym in names for mark in marks):
            return bucket
    if frames and frames[0][1] == "[kernel.kallsyms]":
        return "kernel: interrupts, page faults, scheduling outside syscalls"
    if any(dso.endswith("envprobe") for _, dso in frames):
        return "user: event loop and the rest of envprobe"
    return "other"


def leaf(frames):
    for sym, dso in frames:
        return f"{sym} ({os.path.basename(dso)})"
    return "?"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envprobe", required=True)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--interval", type=bench.parse_duration, default=1.0)
    p.add_argument("--warmup", type=bench.parse_duration, default=5.0)
    p.add_argument("--seconds", type=bench.parse_duration, default=10.0, help="perf record time")
    p.add_argument("--frequency", type=int, default=999, help="samples a second")
    p.add_argument("--top", type=int, default=25, help="how many leaf functions to list")
    p.add_argument("--workdir")
    args = p.parse_args()
    perf = shutil.which("perf")
    if not perf:
        raise SystemExit("perf is not installed (Debian package linux-perf)")
    own = args.workdir is None
    work = args.workdir or tempfile.mkdtemp(prefix="envprobe-profile-")
    os.makedirs(work, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    procs = bench.Processes()
    try:
        nginx, nginx_port = bench.start_nginx(procs, work)
        conf = os.path.join(work, "envprobe.yaml")
        bench.write_envprobe_conf(conf, args.targets, args.interval, min(5.0, args.interval), nginx_port)
        agent, port, _ = bench.start_envprobe(procs, args, work, conf, "envprobe", args.targets, 120)
        time.sleep(args.warmup)
        data = os.path.join(work, "perf.data")
        first = bench.scrape_envprobe(port)
        window = bench.CpuWindow([agent.pid])
        window.start()
        rec = subprocess.run([perf, "record", "-F", str(args.frequency), "--call-graph", "dwarf,32768",
                              "-p", str(agent.pid), "-o", data, "--", "sleep", str(args.seconds)],
                             capture_output=True, text=True)
        window.stop()
        last = bench.scrape_envprobe(port)
        if rec.returncode != 0:
            raise SystemExit("perf record failed:\n" + rec.stderr)
        probes = (bench.total(last, "envprobe_probes_total") - bench.total(first, "envprobe_probes_total")) \
            * window.seconds / (last["at"] - first["at"])
        cpu_us = window.cpu_seconds([agent.pid]) * 1e6 / probes
        script = subprocess.run([perf, "script", "-i", data, "--no-inline", "-F", "comm,tid,ip,sym,dso"],
                                capture_output=True, text=True)
    finally:
        procs.stop_all()
    buckets, leaves, n = collections.Counter(), collections.Counter(), 0
    for comm, frames in parse_perf_script(script.stdout):
        n += 1
        buckets[bucket_of(comm, frames)] += 1
        leaves[leaf(frames)] += 1
    if own:
        shutil.rmtree(work, ignore_errors=True)
    if n == 0:
        raise SystemExit("perf recorded no samples")
    print()
    print(f"## Where envprobe's CPU goes: {args.targets} targets every "
          f"{bench.format_duration(args.interval)}, {probes / window.seconds:.0f} probes/s, "
          f"{cpu_us:.1f} µs CPU per probe while perf records ({n} samples)")
    print()
    print("| bucket | share | µs/probe |")
    print("|---|---:|---:|")
    for bucket, count in buckets.most_common():
        print(f"| {bucket} | {100 * count / n:.1f}% | {cpu_us * count / n:.1f} |")
    print()
    print(f"Top {args.top} functions by own samples (leaf frame):")
    print()
    print("| function | share | µs/probe |")
    print("|---|---:|---:|")
    for name, count in leaves.most_common(args.top):
        print(f"| `{name}` | {100 * count / n:.1f}% | {cpu_us * count / n:.1f} |")


if __name__ == "__main__":
    main()
