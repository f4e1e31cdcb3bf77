"""Grafana's side of a dashboard query, for dashboard_check.py: walking panels and annotations,
Grafana's built-in variables, template variables resolved through the Prometheus HTTP API, and
their interpolation with the escaping of Grafana's Prometheus datasource. Standard library only.
"""
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

# --- Prometheus HTTP API -------------------------------------------------------------------

def api(prom, path, params):
    url = f"{prom}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}
    except (urllib.error.URLError, OSError, ValueError) as e:
        return {"status": "error", "error": str(e)}
    return body


def instant(prom, expr, at):
    return api(prom, "/api/v1/query", {"query": expr, "time": f"{at:.3f}"})


def finite_samples(result):
    """The number of samples in a query answer that are numbers (not NaN)."""
    data = result.get("data", {})
    rtype, res = data.get("resultType"), data.get("result")
    if rtype in ("scalar", "string"):
        return 0 if rtype == "scalar" and res[1] == "NaN" else 1
    return sum(1 for s in res or [] if s.get("value") and s["value"][1] != "NaN")


# --- dashboards ----------------------------------------------------------------------------

def all_panels(dash):
    """Every panel, rows' nested (collapsed) panels included, in order."""
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def annotation_queries(dash):
    for a in dash.get("annotations", {}).get("list", []):
        if (a.get("datasource") or {}).get("type") != "prometheus":
            continue
        exprs = [a.get("expr")] + [(a.get("target") or {}).get("expr")]
        for e in dict.fromkeys(x for x in exprs if x):
            yield a, e


def var_query_text(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


# Grafana's Prometheus datasource: a variable that is neither multi nor includeAll is escaped
# as a plain string, any other as a regex (special characters prefixed with a backslash).
def regular_escape(s):
    return s.replace("\\", "\\\\").replace("'", "\\\\'")


def regex_escape(s):
    s = s.replace("\\", "\\\\\\\\")
    s = re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), s)
    return s


class Value:
    def __init__(self, var, values, is_all):
        self.var, self.values, self.is_all = var, values, is_all

    def text(self):
        v = self.var
        if self.is_all and v.get("allValue") is not None:
            return v["allValue"]
        if not v.get("multi") and not v.get("includeAll"):
            return regular_escape(self.values[0])
        escaped = [regex_escape(x) for x in self.values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"

    def shown(self):
        return "All" + (f" ({self.text()})" if self.is_all else "") if self.is_all \
            else ",".join(self.values)


def round_interval(ms):
    """Grafana's rangeutil.roundInterval."""
    table = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
             (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000),
             (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000),
             (750000, 600000), (1050000, 900000), (1500000, 1200000), (2700000, 1800000),
             (5400000, 3600000), (9000000, 7200000), (16200000, 10800000),
             (27000000, 21600000), (39600000, 43200000), (63000000, 86400000)]
    for bound, value in table:
        if ms < bound:
            return value
    return 604800000


def dur(ms):
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def parse_relative(text):
    m = re.fullmatch(r"now-(\d+)([smhdw])", text or "")
    if not m:
        raise SystemExit(f"time.from {text!r}: only now-<N><s|m|h|d|w> is supported here")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def builtins(range_s, scrape_s, max_points):
    """Grafana's built-in variables for a dashboard range ending now: $__interval is the range
    over the panel's data points rounded (at least the datasource's scrape interval);
    $__rate_interval is max($__interval + scrape interval, 4 x scrape interval)."""
    interval_ms = max(round_interval(range_s * 1000 // max_points), scrape_s * 1000)
    rate_ms = max(interval_ms + scrape_s * 1000, 4 * scrape_s * 1000)
    now = time.time()
    return {
        "__interval_ms": str(interval_ms), "__interval": dur(interval_ms),
        "__rate_interval_ms": str(rate_ms), "__rate_interval": dur(rate_ms),
        "__range_ms": str(range_s * 1000), "__range_s": str(range_s), "__range": dur(range_s * 1000),
        "__from": str(int((now - range_s) * 1000)), "__to": str(int(now * 1000)),
    }


VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)")


def interpolate(text, values, builtin):
    missing = []

    def sub(m):
        name = m.group(1) or m.group(3) or m.group(4)
        fmt = m.group(2)
        if name in builtin:
            return builtin[name]
        if name not in values:
            missing.append(name)
            return m.group(0)
        if fmt:
            raise ValueError(f"${{{name}:{fmt}}}: variable formats are not used by these dashboards")
        return values[name].text()

    out = VAR_RE.sub(sub, text)
    if missing:
        raise ValueError(f"unknown variable(s) {', '.join('$' + n for n in missing)}")
    return out


def resolve_variables(dash, prom, builtin, range_s, preset=None):
    """Each variable's value: PRESET's (from a link's var-NAME=VALUE, which must be one of the
    variable's options, or "All"), else All when it has an All option, else its first option."""
    preset = dict(preset or {})
    names = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
    for name in preset:
        if name not in names:
            raise ValueError(f"the link sets var-{name}, which is not a variable of {dash['uid']}")
    values, log = {}, []
    now = time.time()
    window = {"start": f"{now - range_s:.3f}", "end": f"{now:.3f}"}
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            continue
        if v.get("type") != "query":
            raise ValueError(f"variable {v.get('name')}: type {v.get('type')} is not handled")
        q = interpolate(var_query_text(v), values, builtin)
        m1 = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_]\w*)\s*\)\s*", q)
        m2 = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*", q)
        m3 = re.fullmatch(r"\s*query_result\(\s*(.+)\s*\)\s*", q)
        if m1 or m2:
            label = (m1 or m2).group(1 if m1 else 2)
            params = dict(window)
            if m2:
                params["match[]"] = m2.group(1)
            r = api(prom, f"/api/v1/label/{label}/values", params)
            if r.get("status") != "success":
                raise ValueError(f"variable {v['name']}: {q}: {r.get('error')}")
            options = list(r["data"])
        elif m3:
            r = instant(prom, m3.group(1), now)
            if r.get("status") != "success":
                raise ValueError(f"variable {v['name']}: {q}: {r.get('error')}")
            options = []
            for s in r["data"]["result"]:
                labels = ",".join(f'{k}="{x}"' for k, x in s["metric"].items() if k != "__name__")
                options.append(f'{s["metric"].get("__name__", "")}{{{labels}}} {s["value"][1]} '
                               f'{s["value"][0] * 1000:.0f}')
        else:
            raise ValueError(f"variable {v['name']}: query {q!r} is not handled")
        if v.get("regex"):
            rx = re.compile(v["regex"].strip("/"))
            picked = []
            for o in options:
                m = rx.search(o)
                if m:
                    picked.append(m.group(1) if m.groups() else o)
            options = picked
        options = list(dict.fromkeys(options))
        if v.get("sort") in (1, 2):
            options.sort(reverse=v["sort"] == 2)
        if v["name"] in preset:
            want = preset.pop(v["name"])
            if want in ("All", "$__all") and v.get("includeAll"):
                val = Value(v, options, True)
            elif want in options:
                val = Value(v, [want], False)
            else:
                raise ValueError(f"the link sets ${v['name']} to {want!r}, not among its "
                                 f"{len(options)} value(s) from {q}: {options}")
        elif v.get("includeAll"):
            val = Value(v, options, True)
        elif options:
            val = Value(v, options[:1], False)
        else:
            raise ValueError(f"variable {v['name']}: {q} has no values and no All option")
        values[v["name"]] = val
        log.append(f"${v['name']} = {val.shown()}  ({len(options)} value(s) from {q})")
    return values, log
