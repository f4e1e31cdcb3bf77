#!/usr/bin/env python3
"""Scrape an agent's /metrics every 0.2 s, then answer questions about what was seen.

  metrics_monitor.py record URL OUT
      Scrape URL every 0.2 s until killed; append one JSON line per scrape to OUT:
      {"t": unix time, "ok": bool, "error": str (if not ok), "probes": envprobe_probes_total
       summed over results, "hosts": sorted hostnames with a probe_success sample,
       "failures": {hostname: probe_failures_total summed over reasons and addresses}}.

  metrics_monitor.py ask OUT MODE FROM TO [ARGS...]
      About the scrapes in OUT taken between the unix times FROM and TO. Prints "ok" or the
      first scrape that breaks the rule (when, and what it saw), or a figure:
        monotonic        envprobe_probes_total never decreases
        hosts H...       every scrape has probe_success for exactly the hostnames H
        includes H...    every scrape has probe_success for at least the hostnames H
        kept HOST        probe_failures_total of HOST never decreases while it is there
        growth           probes at the last scrape minus probes at the first
        count            how many scrapes
      A failed scrape breaks every rule.

Loopback only (the URL is the test's); standard library only.
"""
import json
import re
import sys
import time
import urllib.request

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(url):
    rec = {"t": time.time(), "ok": True, "probes": 0.0, "hosts": [], "failures": {}}
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
    except Exception as e:  # a failed scrape is a finding, recorded as such
        rec.update(ok=False, error=str(e))
        return rec
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))
        if name == "envprobe_probes_total":
            rec["probes"] += value
        elif name == "probe_success":
            rec["hosts"].append(labels.get("hostname"))
        elif name == "probe_failures_total":
            host = labels.get("hostname")
            rec["failures"][host] = rec["failures"].get(host, 0) + value
    rec["hosts"].sort()
    return rec


def record(url, out):
    with open(out, "a", buffering=1) as f:
        while True:
            rec = scrape(url)
            f.write(json.dumps(rec) + "\n")
            time.sleep(max(0.0, 0.2 - (time.time() - rec["t"])))


def ask(out, mode, t0, t1, args):
    recs = [r for r in map(json.loads, open(out)) if t0 <= r["t"] <= t1]
    if mode == "count":
        return str(len(recs))
    if not recs:
        return "no scrape in the window"

    def at(r, what):
        return f"at +{r['t'] - t0:.2f}s (scrape {recs.index(r) + 1}/{len(recs)}): {what}"

    for r in recs:
        if not r["ok"]:
            return at(r, f"scrape failed: {r.get('error')}")
    if mode == "growth":
        return f"{recs[-1]['probes'] - recs[0]['probes']:g}"
    if mode == "monotonic":
        for a, b in zip(recs, recs[1:]):
            if b["probes"] < a["probes"]:
                return at(b, f"envprobe_probes_total went from {a['probes']:g} to {b['probes']:g}")
    elif mode in ("hosts", "includes"):
        want = set(args)
        for r in recs:
            got = set(r["hosts"])
            if (got != want) if mode == "hosts" else not want <= got:
                return at(r, f"probe_success for {' '.join(sorted(got)) or 'no hostname'}")
    elif mode == "kept":
        prev = None
        for r in recs:
            v = r["failures"].get(args[0])
            if v is not None and prev is not None and v < prev:
                return at(r, f"probe_failures_total of {args[0]} went from {prev:g} to {v:g}")
            prev = v if v is not None else prev
    else:
        sys.exit(f"unknown mode {mode!r}")
    return "ok"


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 6 and sys.argv[1] == "ask":
        print(ask(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
