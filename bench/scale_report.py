#!/usr/bin/python3
"""The scale mode's report: two tables (load and memory; scrapes and the loop), one row a size."""

from benchlib import format_duration
from bench_report import fmt, fmt_seconds

GIB = 1024 * 1024  # KiB


def first_round(r):
    """The first round's time, or why there is none."""
    if "first_round_s" not in r:
        return "—"
    return "not reached" if r["first_round_s"] is None else f"{r['first_round_s']:.1f}"


def mib(kib):
    return None if kib is None else kib / 1024


def size_label(n):
    for div, unit in ((1_000_000, "M"), (1000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return f"{n:,}"


def size_bytes(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def encoding(row, kind):
    enc = row.get(f"{kind}_encoding")
    if enc is None:
        return "—"
    size = size_bytes(row[f"{kind}_wire"])
    if kind == "gzip":
        return size + (" (gzip)" if enc == "gzip" else f" ({enc or 'not compressed'})")
    return size


def report(args, quiet, margin_kib, base, rows, machine):
    print()
    print("## envprobe at scale: load, memory, scrapes")
    print()
    print(f"{machine}; every target one HTTP check pinned to one loopback nginx (`backends`), "
          f"every {format_duration(args.interval)}, `jitter: 0`; catalog in the compact form "
          f"({args.hostnames_per_service} hostnames per service). Per size: start, ready, "
          f"{format_duration(quiet)} without scrapes, then {format_duration(args.duration)} "
          f"scraped every {format_duration(args.scrape_interval)} (alternately plain and with "
          "`Accept-Encoding: gzip`). Per-target RSS is against a 1-target agent "
          f"({mib(base['rss_probed_kib']):.1f} MiB probed, {mib(base['rss_scraped_kib']):.1f} MiB "
          "scraped).")
    print()
    print("| targets | catalog | load s | ready s | first round s | peak RSS loading "
          "| KiB/target probed | KiB/target scraped | peak RSS run | probes/s (asked) "
          "| failed / skipped |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for r in rows:
        label = size_label(r["targets"])
        if "skipped_size" in r:
            print(f"| {label} | {r['skipped_size']} ||||||||||")
            continue
        probes = r.get("scraped_probes_per_s")
        print(f"| {label} | {size_bytes(r['catalog_bytes'])} | {fmt(r.get('load_s'), '.1f')} | "
              f"{fmt(r.get('ready_s'), '.1f')} | "
              f"{first_round(r)} | "
              f"{fmt(mib(r.get('load_hwm_kib')), '.0f')} MiB | "
              f"{fmt(r.get('kib_per_target_probed'), '.2f')} | "
              f"{fmt(r.get('kib_per_target_scraped'), '.2f')} | "
              f"{fmt(mib(r.get('max_rss_kib')), '.0f')} MiB | "
              f"{fmt(probes, '.0f')} ({r['expected_probes_per_s']:.0f}) | "
              f"{fmt(r.get('failed'), '.0f')} / {fmt(r.get('skipped'), '.0f')} |")
        if "stopped" in r:
            notes.append(f"- {label}: {r['stopped']}")
        if "first_round_s" in r and r["first_round_s"] is None:
            notes.append(f"- {label}: the first round was not over within 3 intervals + 30 s "
                         "(more probes asked than the agent runs: runs were skipped), so "
                         "KiB/target probed counts targets not probed yet")
        if r.get("envprobe_targets") not in (None, r["targets"]):
            notes.append(f"- {label}: envprobe_targets was {r['envprobe_targets']:.0f}, "
                         f"not {r['targets']}")
    print()
    print("| targets | /metrics plain | asked for gzip | scrape CPU s (plain / gzip) "
          "| scrape wall s (plain / gzip) | lag p50 / p99 quiet | lag p50 / p99 scraped "
          "| agent CPU probing |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "skipped_size" in r:
            continue
        print(f"| {size_label(r['targets'])} | {encoding(r, 'plain')} | {encoding(r, 'gzip')} | "
              f"{fmt(r.get('plain_cpu_s'), '.2f')} / {fmt(r.get('gzip_cpu_s'), '.2f')} | "
              f"{fmt(r.get('plain_wall_s'), '.2f')} / {fmt(r.get('gzip_wall_s'), '.2f')} | "
              f"{fmt_seconds(r.get('quiet_lag_p50'))} / {fmt_seconds(r.get('quiet_lag_p99'))} | "
              f"{fmt_seconds(r.get('scraped_lag_p50'))} / {fmt_seconds(r.get('scraped_lag_p99'))} | "
              f"{fmt(r.get('idle_cpu_cores'), '.2f')} cores |")
    print()
    for line in notes:
        print(line)
    print(f"- memory guard: a size runs only if its estimate (the previous size's peak per target, "
          f"+25%) fits in MemAvailable − {margin_kib / GIB:.1f} GiB"
          + (f" and --mem-limit-gib {args.mem_limit_gib:g}" if args.mem_limit_gib is not None
             else "")
          + "; the agent's RSS is polled every 0.5 s and the agent killed past that budget, or if "
            f"MemAvailable falls below {margin_kib * 0.75 / GIB:.1f} GiB.")
    print("- load s: start to the `starting envprobe` log line (catalog parsed, targets expanded, "
          "listening); ready s: to `/-/ready` 200 (loaded, every target scheduled); first round s: to the `first round started` log line (every target's first run started: the first runs are spread over one interval, so about one interval; 'not reached' if not within 3 intervals + 30 s); envprobe_targets is "
          "checked at the first scrape. Peak RSS loading: VmHWM at ready; peak RSS run: the "
          "highest VmHWM or polled RSS of the run, scrapes included.")
    print("- scrape CPU: the agent's utime+stime around the scrape minus its probing CPU rate "
          "(measured over the quiet window) times the scrape's wall time; medians. Lag: "
          "envprobe_scheduler_lag_seconds interpolated like histogram_quantile (buckets 0.1, "
          "0.5, 1, 5, 10, 50 ms …); quiet = from start to the first scrape (never scraped "
          "before), scraped = between the first and the last scrape.")
