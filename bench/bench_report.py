#!/usr/bin/python3
"""The benchmark's report: the table of rows side by side, figures and ratios. Used by bench.py."""

from benchlib import *  # noqa: F401,F403

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
