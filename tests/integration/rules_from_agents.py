"""`dashboard_check.py rules-test`: a `promtool test rules` file whose input series are
probe_success samples scraped from running agents, labelled as the shipped scrape config
(honor_labels) stores them, and whose expected alerts are the env-aware ones documented for
config/prometheus/rules.yml. Standard library only.
"""
import json
import re
import time
import urllib.request

from grafana_model import api, instant

# The alerts rules.yml documents (docs/alerting-prometheus.md): prod pages, non-prod opens a
# low-priority ticket, and a non-prod failure escalates after a day.
PROD = {"severity": "page", "priority": "P1"}
NONPROD = {"severity": "ticket", "priority": "P4", "queue": "nonprod"}
ESCALATED = {"severity": "ticket", "priority": "P3", "queue": "nonprod", "escalated": "true"}


def probe_failed_annotations(l):
    via = f" via backend {l['address']}" if l.get("address") else ""
    return {
        "summary": f"{l['service']}: {l['hostname']} ({l['visibility']}) failing in {l['env']}",
        "description": f"Check {l['check']} of service {l['service']} against {l['visibility']} "
                       f"hostname {l['hostname']}{via} in {l['env']} has failed for at least 3 "
                       f"minutes. probe_failures_total{{reason}} says why.",
        "runbook_url": "https://runbooks.example.com/envprobe/ProbeFailed"}


def escalated_annotations(l):
    via = f" via backend {l['address']}" if l.get("address") else ""
    return {
        "summary": f"{l['service']}: {l['hostname']} ({l['visibility']}) failing in {l['env']} "
                   "for over 24h",
        "description": f"Check {l['check']} of service {l['service']} against {l['visibility']} "
                       f"hostname {l['hostname']}{via} in {l['env']} has not succeeded for 24 "
                       "hours. A broken non-prod environment is usually the next broken prod "
                       "deploy.",
        "runbook_url": "https://runbooks.example.com/envprobe/NonProdProbeFailingLong"}


def parse_samples(text, name):
    out = []
    label_re = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        m = re.match(rf"^{name}(?:\{{(.*)\}})?\s+(\S+)", line)
        if m:
            labels = {k: re.sub(r"\\(.)", lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), v)
                      for k, v in label_re.findall(m.group(1) or "")}
            out.append((labels, float(m.group(2))))
    return out


def selector(name, labels):
    esc = lambda v: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return name + "{" + ",".join(f'{k}="{esc(v)}"' for k, v in sorted(labels.items())) + "}"


def cmd_rules_test(args):
    targets = api(args.prom, "/api/v1/targets", {"state": "active"})
    if targets.get("status") != "success":
        print(f"FAIL: /api/v1/targets: {targets.get('error')}")
        return 1
    by_url = {t["scrapeUrl"]: t["labels"] for t in targets["data"]["activeTargets"]}
    chosen = []  # (labels as Prometheus stores them, captured value)
    for url in args.agent:
        if url not in by_url:
            print(f"FAIL: {url} is not a scrape target of the Prometheus at {args.prom}")
            return 1
        with urllib.request.urlopen(url, timeout=10) as r:
            samples = parse_samples(r.read().decode("utf-8", "replace"), "probe_success")
        samples.sort(key=lambda s: sorted(s[0].items()))
        # honor_labels: true: the exported labels win, the target's labels fill in the rest.
        stored = [({**by_url[url], **labels}, value) for labels, value in samples]
        failing = [s for s in stored if s[1] == 0]
        passing = [s for s in stored if s[1] == 1]
        if not failing:
            print(f"FAIL: {url} exports no failing probe_success series")
            return 1
        chosen.append(failing[0])
        if passing and not any(c[1] == 1 for c in chosen):
            chosen.append(passing[0])
    envs = {c[0].get("env") for c in chosen if c[1] == 0}
    if "prod" not in envs or not envs - {"prod"}:
        print(f"FAIL: need a failing series from prod and from a non-prod environment, got {envs}")
        return 1
    now = time.time()
    for labels, value in chosen:
        sel = selector("probe_success", labels)
        r = instant(args.prom, sel, now)
        got = [s["metric"] for s in r.get("data", {}).get("result", [])]
        if {**labels, "__name__": "probe_success"} not in got:
            print(f"FAIL: Prometheus holds no series with exactly the labels {sel} (it has {got})")
            return 1
        print(f"ok: captured {sel} = {value:g} (the same labels as stored by Prometheus)")

    minutes = 25 * 60 + 10
    series = [{"series": selector("probe_success", l), "values": f"{v:g}x{minutes}"}
              for l, v in chosen]
    failed = [l for l, v in chosen if v == 0]
    exp_failed = [{"exp_labels": {**l, "alertname": "ProbeFailed",
                                  **(PROD if l["env"] == "prod" else NONPROD)},
                   "exp_annotations": probe_failed_annotations(l)} for l in failed]
    exp_escalated = [{"exp_labels": {**l, "alertname": "NonProdProbeFailingLong", **ESCALATED},
                      "exp_annotations": escalated_annotations(l)}
                     for l in failed if l["env"] != "prod"]
    test = {
        "rule_files": [args.rules],
        "evaluation_interval": "1m",
        "tests": [{
            "name": "series captured from running agents",
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [
                {"eval_time": "2m", "alertname": "ProbeFailed", "exp_alerts": []},
                {"eval_time": "5m", "alertname": "ProbeFailed", "exp_alerts": exp_failed},
                {"eval_time": "5m", "alertname": "NonProdProbeFailingLong", "exp_alerts": []},
                {"eval_time": "25h", "alertname": "NonProdProbeFailingLong",
                 "exp_alerts": exp_escalated},
            ],
        }],
    }
    with open(args.out, "w") as f:
        json.dump(test, f, indent=1)  # JSON is YAML: promtool reads it as is
        f.write("\n")
    print(f"ok: wrote {args.out}: {len(series)} input series, {len(exp_failed)} ProbeFailed and "
          f"{len(exp_escalated)} NonProdProbeFailingLong alert(s) expected")
    return 0
