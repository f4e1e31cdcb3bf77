#!/usr/bin/env python3
"""Proves envprobe's Grafana dashboards against a real Prometheus (Grafana is not packaged for
Debian, so its part is done here the way Grafana does it: grafana_model.py). Standard library
only.

  lint FILE...                      structure: valid JSON, fixed uid, unique panel ids, every
                                    panel has a query and a unit, every datasource is the
                                    ${datasource} variable, no hard-coded instance or job
  queries --prom URL [--url LINK] FILE...
                                    resolves each dashboard's template variables through the
                                    Prometheus API (label_values -> /api/v1/label/.../values,
                                    query_result -> /api/v1/query; includeAll -> All, else the
                                    first value), substitutes them and the built-ins
                                    ($__interval, $__rate_interval, $__range, ...), runs every
                                    panel target (rows' nested panels too) and every annotation
                                    query through /api/v1/query and fails on an error or no
                                    data; with --url, only the linked dashboard, with the link's
                                    var-NAME values (each must be one of the variable's values)
  instance-unique --prom URL        count by (instance) (probe_success) is 1 for every series
  rules-test --prom URL --agent METRICS_URL... --rules RULES --out FILE
                                    writes a `promtool test rules` file whose input series are
                                    probe_success samples scraped from the agents' /metrics
                                    (one failing per environment, one passing), labelled as the
                                    scrape config labels them, and whose expected alerts are the
                                    env-aware ones documented for rules.yml

--pending NAME (repeatable) names a metric, or `label:NAME` a label, that the agent is about to
export. A failure whose query needs only such names, none of which the agents (--agent-metrics
URL) export yet, is reported as "pending" instead of as a defect; it still fails the run.
"""
import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
from grafana_model import (VAR_RE, all_panels, annotation_queries, builtins, finite_samples,
                           instant, interpolate, parse_relative, resolve_variables,
                           var_query_text)
from rules_from_agents import cmd_rules_test

DS_REF = "${datasource}"
BUILTIN_PREFIX = "__"


# --- lint ----------------------------------------------------------------------------------

MATCHER_RE = re.compile(r'\b(instance|job)\s*(=~|!~|=|!=)\s*"([^"]*)"')


def lint(path, known_uids):
    errors = []
    try:
        dash = json.load(open(path))
    except (OSError, ValueError) as e:
        return [f"{path}: not valid JSON: {e}"], None
    where = path.rsplit("/", 1)[-1]
    uid = dash.get("uid")
    if not uid or not re.fullmatch(r"envprobe-[a-z]+", uid):
        errors.append(f"{where}: uid {uid!r} must be fixed (envprobe-<name>)")
    elif not where.startswith(uid):
        errors.append(f"{where}: uid {uid} does not match the file name")
    if dash.get("id") is not None:
        errors.append(f"{where}: id must be null (Grafana assigns it on import)")
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        errors.append(f"{where}: schemaVersion {dash.get('schemaVersion')} is older than 36")
    variables = dash.get("templating", {}).get("list", [])
    ds_vars = [v for v in variables if v.get("type") == "datasource"]
    if len(ds_vars) != 1 or ds_vars[0].get("name") != "datasource" or \
            ds_vars[0].get("query") != "prometheus":
        errors.append(f"{where}: needs one template variable `datasource` of type datasource, "
                      "query prometheus")
    names = {v.get("name") for v in variables}
    exprs = []
    for v in variables:
        if v.get("type") == "datasource":
            continue
        if (v.get("datasource") or {}).get("uid") != DS_REF:
            errors.append(f"{where}: variable {v.get('name')}: datasource is not {DS_REF}")
        exprs.append((f"variable {v.get('name')}", var_query_text(v)))
    ids = {}
    for p in all_panels(dash):
        label = f"panel {p.get('id')} {p.get('title')!r}"
        if p.get("id") in ids:
            errors.append(f"{where}: {label}: id used twice")
        ids[p.get("id")] = True
        if "gridPos" not in p:
            errors.append(f"{where}: {label}: no gridPos")
        if p.get("type") == "row":
            continue
        if (p.get("datasource") or {}).get("uid") != DS_REF:
            errors.append(f"{where}: {label}: datasource is not {DS_REF}")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            errors.append(f"{where}: {label}: no unit (fieldConfig.defaults.unit)")
        targets = p.get("targets") or []
        if not targets or not all(t.get("expr") for t in targets):
            errors.append(f"{where}: {label}: a panel without a query (every target needs expr)")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            errors.append(f"{where}: {label}: duplicate refId")
        for t in targets:
            if (t.get("datasource") or {}).get("uid") != DS_REF:
                errors.append(f"{where}: {label} target {t.get('refId')}: datasource is not {DS_REF}")
            exprs.append((f"{label} target {t.get('refId')}", t.get("expr") or ""))
        for link in re.findall(r'/d/[^"\s]*', json.dumps(p)):
            linked = re.match(r"/d/([\w-]+)", link).group(1)
            if linked not in known_uids:
                errors.append(f"{where}: {label}: links to /d/{linked}, which is not a dashboard here")
                continue
            for var in re.findall(r"[?&]var-(\w+)=", link):
                if var not in known_uids[linked]:
                    errors.append(f"{where}: {label}: its link sets var-{var}, which is not a "
                                  f"variable of {linked}")
    for a, e in annotation_queries(dash):
        if (a.get("datasource") or {}).get("uid") != DS_REF:
            errors.append(f"{where}: annotation {a.get('name')}: datasource is not {DS_REF}")
        tgt = (a.get("target") or {}).get("expr")
        if tgt and a.get("expr") and tgt != a["expr"]:
            errors.append(f"{where}: annotation {a.get('name')}: expr and target.expr differ")
        exprs.append((f"annotation {a.get('name')}", e))
    for what, e in exprs:
        for m in MATCHER_RE.finditer(e):
            if not re.fullmatch(r"\$\{?\w+\}?", m.group(3)):
                errors.append(f"{where}: {what}: hard-coded {m.group(1)}{m.group(2)}\"{m.group(3)}\"")
        if re.search(r"\d+\.\d+\.\d+\.\d+|:\d{4,5}\b", e):
            errors.append(f"{where}: {what}: a hard-coded address in {e!r}")
        for ref in VAR_RE.finditer(e):
            name = ref.group(1) or ref.group(3) or ref.group(4)
            if not name.startswith(BUILTIN_PREFIX) and name not in names:
                errors.append(f"{where}: {what}: ${name} is not a variable of this dashboard")
    return errors, dash


# --- pending names -------------------------------------------------------------------------

def exported(agent_urls):
    """(metric names, label names on probe_* series) the agents export now."""
    metrics, probe_labels = set(), set()
    for url in agent_urls:
        with urllib.request.urlopen(url, timeout=10) as r:
            for line in r.read().decode("utf-8", "replace").splitlines():
                if not line or line.startswith("#"):
                    continue
                m = re.match(r"([a-zA-Z_:][\w:]*)(\{[^}]*\})?", line)
                name = m.group(1)
                metrics.add(name)
                if name.startswith("probe_") and m.group(2):
                    probe_labels.update(re.findall(r'(\w+)="', m.group(2)))
    return metrics, probe_labels


def pending_reason(expr, pending, agents):
    """Why a failed query may only be waiting for names not exported yet (or None)."""
    if not pending or agents is None:
        return None
    metrics, labels = agents
    waits = []
    for name in pending:
        if name.startswith("label:"):
            continue
        if re.search(rf"\b{re.escape(name)}\b", expr) and name not in metrics:
            waits.append(name)
    return ", ".join(waits) + " not exported yet" if waits else None


# --- commands ------------------------------------------------------------------------------

def cmd_lint(args):
    uids = {}  # uid -> its variable names, to check links between the dashboards
    for f in args.files:
        try:
            d = json.load(open(f))
            uids[d.get("uid")] = {v.get("name") for v in d.get("templating", {}).get("list", [])}
        except (OSError, ValueError, AttributeError):
            pass
    bad = 0
    for f in args.files:
        errors, dash = lint(f, uids)
        for e in errors:
            print(f"FAIL: lint: {e}")
        bad += len(errors)
        if dash is not None and not errors:
            n = sum(1 for p in all_panels(dash) if p.get("type") != "row")
            print(f"ok: lint {f.rsplit('/', 1)[-1]}: uid {dash['uid']}, {n} panels, "
                  f"{len(dash['templating']['list'])} variables")
    return 1 if bad else 0


def cmd_queries(args):
    agents = exported(args.agent_metrics) if args.agent_metrics else None
    totals = {"run": 0, "ok": 0, "fail": 0, "pending": 0}
    failures, pending = [], []
    preset, link_uid = {}, None
    if args.url:
        u = urllib.parse.urlsplit(args.url)
        m = re.match(r"^.*/d/([\w-]+)", u.path)
        if not m:
            print(f"FAIL: {args.url}: not a Grafana dashboard link (/d/<uid>...)")
            return 1
        link_uid = m.group(1)
        preset = {k[4:]: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()
                  if k.startswith("var-")}
    files = [f for f in args.files if link_uid is None or json.load(open(f)).get("uid") == link_uid]
    if not files:
        print(f"FAIL: {args.url} links to /d/{link_uid}, which is none of {args.files}")
        return 1
    for f in files:
        dash = json.load(open(f))
        uid = dash["uid"]
        range_s = parse_relative(dash.get("time", {}).get("from"))
        builtin = builtins(range_s, args.scrape_interval, args.max_data_points)
        print(f"== {uid}: range {builtin['__range']}, $__interval {builtin['__interval']}, "
              f"$__rate_interval {builtin['__rate_interval']}")
        try:
            values, log = resolve_variables(dash, args.prom, builtin, range_s, preset)
        except ValueError as e:
            print(f"FAIL: {uid}: {e}")
            failures.append(f"{uid}: variables: {e}")
            continue
        for line in log:
            print(f"   {line}")
        queries = []
        for p in all_panels(dash):
            for t in p.get("targets") or []:
                if not t.get("hide"):
                    queries.append((f"panel {p['id']} {p['title']!r} {t['refId']}", t["expr"]))
        for a, e in annotation_queries(dash):
            queries.append((f"annotation {a['name']!r}", e))
        extra = []
        for what, e in queries:
            # A fallback keeps a stat at 0 instead of empty; the fixture makes the bare query
            # return data too, so that a wrong name cannot hide behind the fallback.
            if e.rstrip().endswith(" or vector(0)"):
                extra.append((f"{what} without its `or vector(0)`", e.rstrip()[:-len(" or vector(0)")]))
        now = time.time()
        n_ok = n_fail = 0
        for what, e in queries + extra:
            try:
                expr = interpolate(e, values, builtin)
            except ValueError as err:
                result = {"status": "error", "error": str(err)}
                expr = e
            else:
                result = instant(args.prom, expr, now)
            totals["run"] += 1
            if result.get("status") == "success" and finite_samples(result) > 0:
                n_ok += 1
                if args.verbose:
                    print(f"   ok   {what}: {finite_samples(result)} sample(s)")
                continue
            n_fail += 1
            why = result.get("error") if result.get("status") != "success" else "no data"
            waits = pending_reason(e, args.pending, agents)
            line = f"{uid}: {what}: {why}\n      {expr}"
            if waits:
                pending.append(f"{line}\n      pending: {waits}")
                print(f"FAIL (pending): {uid}: {what}: {why} ({waits})")
            else:
                failures.append(line)
                print(f"FAIL: {uid}: {what}: {why}\n      {expr}")
        totals["ok"] += n_ok
        print(f"{'ok' if not n_fail else 'FAIL'}: {uid}: {len(queries)} panel and annotation "
              f"queries + {len(extra)} without their fallback = {len(queries) + len(extra)} run, "
              f"{n_ok} with data, {n_fail} failed")
    totals["fail"], totals["pending"] = len(failures), len(pending)
    print(f"== queries: {totals['run']} run, {totals['ok']} with data, {len(failures)} failed, "
          f"{len(pending)} failed only for metrics the agent does not export yet")
    for p in pending:
        print(f"   pending: {p}")
    return 1 if failures or pending else 0


def cmd_instance_unique(args):
    at = time.time()
    total = instant(args.prom, "count(probe_success)", at)
    shared = instant(args.prom, "count by (instance) (probe_success) > 1", at)
    if total.get("status") != "success" or shared.get("status") != "success":
        print(f"FAIL: instance-unique: {total.get('error') or shared.get('error')}")
        return 1
    n = int(float(total["data"]["result"][0]["value"][1])) if total["data"]["result"] else 0
    bad = shared["data"]["result"]
    if n and not bad:
        print(f"ok: count by (instance) (probe_success) is 1 for every one of {n} series")
        return 0
    why = ""
    if args.agent_metrics and "instance" not in exported(args.agent_metrics)[1]:
        why = " (pending: the agents export no instance label on probe series yet)"
    for s in bad:
        print(f"FAIL{' (pending)' if why else ''}: instance {s['metric'].get('instance')!r} is "
              f"shared by {s['value'][1]} of {n} probe_success series{why}")
    if not n:
        print("FAIL: no probe_success series at all")
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lint")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("queries")
    p.add_argument("--prom", required=True)
    p.add_argument("--scrape-interval", type=int, default=1,
                   help="the datasource's scrape interval in seconds (Grafana's minimum step)")
    p.add_argument("--max-data-points", type=int, default=1000)
    p.add_argument("--pending", action="append", default=[])
    p.add_argument("--agent-metrics", action="append", default=[])
    p.add_argument("--url", help="a link to one of the dashboards: its var-NAME values are used")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("instance-unique")
    p.add_argument("--prom", required=True)
    p.add_argument("--agent-metrics", action="append", default=[])
    p = sub.add_parser("rules-test")
    p.add_argument("--prom", required=True)
    p.add_argument("--agent", action="append", required=True, help="an agent's /metrics URL")
    p.add_argument("--rules", required=True)
    p.add_argument("--out", required=True)
    args = ap.parse_args()
    return {"lint": cmd_lint, "queries": cmd_queries, "instance-unique": cmd_instance_unique,
            "rules-test": cmd_rules_test}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
