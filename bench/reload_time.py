#!/usr/bin/python3
"""How long a live reload takes: off the event loop (load, validate, compile) and on it (the swap).

Usage: bench/reload_time.py ENVPROBE_BINARY [--targets 10000] [--rounds 3] [--config FILE]
Generates a catalog of N pinned targets (or uses --config, e.g. config/at.yaml), starts the agent
on loopback, asks POST /-/reload ROUNDS times (the same file: every target unchanged), then once
with one service renamed (one added, one removed), and prints the times from the agent's
"config reloaded" log lines and the time the HTTP call took. Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bench  # noqa: E402  (Processes, free_port, wait_until, write_envprobe_conf)


def post_reload(port):
    started = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=600) as resp:
        body = resp.read().decode()
    return time.monotonic() - started, body.strip()


def reload_lines(log_path):
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "config reloaded":
                out.append(entry)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envprobe")
    parser.add_argument("--targets", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", help="an agent file to reload instead of a generated one")
    args = parser.parse_args()

    procs = bench.Processes()
    with tempfile.TemporaryDirectory(prefix="envprobe-reload-") as work:
        try:
            conf = args.config
            if not conf:
                conf = os.path.join(work, "agent.yaml")
                # Targets pinned to a closed loopback port: probing costs little, loading is real.
                bench.write_envprobe_conf(conf, args.targets, 30.0, 5.0, bench.free_port())
            port = bench.free_port()
            log_path = os.path.join(work, "agent.log")
            proc = procs.start("envprobe", [args.envprobe, f"--config.file={conf}",
                                            f"--web.listen-address=127.0.0.1:{port}",
                                            f"--storage.path={os.path.join(work, 'data')}",
                                            "--log.format=json", "run"], log_path)
            bench.wait_until("envprobe", lambda: bench.http_get(
                f"http://127.0.0.1:{port}/-/healthy")[0] == 200, proc, 300, log_path)
            calls = []
            for _ in range(args.rounds):
                calls.append(post_reload(port))
            if not args.config:
                with open(conf) as f:
                    text = f.read()
                with open(conf, "w") as f:
                    f.write(text.replace("svc000001", "svcX00001", 1))
                calls.append(post_reload(port))
            time.sleep(0.2)
            lines = reload_lines(log_path)
            print(f"reload of {conf if args.config else f'{args.targets} generated targets'}")
            print(f"{'round':>5} {'targets':>8} {'added':>6} {'removed':>7} {'unchanged':>9} "
                  f"{'load s':>8} {'apply ms':>9} {'POST s':>7}")
            for i, (entry, (seconds, _)) in enumerate(zip(lines, calls), 1):
                print(f"{i:>5} {entry['targets']:>8} {entry['added']:>6} {entry['removed']:>7} "
                      f"{entry['unchanged']:>9} {entry['load_seconds']:>8.3f} "
                      f"{entry['apply_seconds'] * 1000:>9.1f} {seconds:>7.3f}")
            if len(lines) != len(calls):
                print(f"expected {len(calls)} reload lines, saw {len(lines)}: {calls}")
                return 1
        finally:
            procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
