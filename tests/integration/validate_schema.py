"""Validate the shipped configs against config/envprobe.schema.json, and show that the schema
rejects broken documents (so a schema that accepts everything cannot pass).

With ENVPROBE_BINARY given, also require that the schema and `envprobe check-config` agree on
every example config (config/*.yaml) and every YAML fixture under tests/fixtures/: both accept
or both reject. A fixture under a folder named valid/ must be accepted, one under invalid/
rejected. The few rules a JSON schema cannot express are listed in LOADER_ONLY, each with its
reason: those fixtures must pass the schema and fail check-config.

Usage: validate_schema.py SOURCE_DIR [ENVPROBE_BINARY]
Needs Debian's python3-jsonschema and python3-yaml. Exits 1 on any unexpected outcome.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # python3 -I leaves this folder out
from schema_agreement import check_agreement, load_yaml  # noqa: E402

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"FAIL: {e} (install the Debian packages python3-jsonschema and python3-yaml)",
          file=sys.stderr)
    sys.exit(1)

SHIPPED = ["services.yaml", "dev.yaml", "at.yaml", "prod.yaml"]

# A small catalog with every kind of value the schema has to accept; the broken cases below
# each differ from it in one place.
BASE = """
environment: dev
include: [services.yaml]
defaults: { interval: 1h30m, timeout: 500ms, address_mode: all }
dns: { servers: ["10.0.0.2:53"], timeout: 2s, tries: 3 }
scheduler: { jitter: 0.1, max_inflight: 64 }
listen: "127.0.0.1:9470"
environments:
  dev:  { tier: nonprod }
  prod: { tier: prod }
services:
  - name: shop
    hostnames:
      internal: ["shop.{env}.local"]
      public: { prod: [shop.example.com], dev: [] }
    backends: { dev: ["10.0.1.5:443", "[fd00::5]:443"] }
    address_mode: first
    checks:
      - name: home
        interval: 15s
        timeout: 5s
        http:
          scheme: https
          port: 8443
          method: POST
          path: /v1/orders?dry=1
          headers: { Content-Type: application/json, X-Api-Version: 2 }
          body: "{}"
          follow_redirects: true
          max_redirects: 0
          body_limit: 512KiB
          tls: { insecure_skip_verify: false, ca_file: /etc/ssl/ca.pem }
          expect:
            status: [200-299, 301, "404"]
            body_contains: ["<title>Shop"]
            body_not_contains: ["error"]
            body_regex: ["(?i)sign in"]
            headers: { Content-Type: "text/html.*" }
            json: { environment: "{env}", ready: true, count: 3 }
            max_duration: 2s
      - name: single-status
        http: { expect: { status: 204 }, body_limit: 65536 }
"""

# (what is broken, text replaced in BASE, its replacement, the path the schema must object at,
# a word its message must contain): path and word make sure it fails for the intended reason.
C0 = ["services", 0, "checks", 0]
BROKEN = [
    ("unknown top-level key", "listen:", "listne:", [], "listne"),
    ("unknown key in defaults", "address_mode: all }", "adress_mode: all }", ["defaults"],
     "adress_mode"),
    ("unknown key in a check", "max_redirects: 0", "max_redirect: 0", C0 + ["http"],
     "max_redirect"),
    ("bad duration (no unit)", "interval: 15s", "interval: 15", C0 + ["interval"], "string"),
    ("bad duration (unknown unit)", "max_duration: 2s", "max_duration: 2sec",
     C0 + ["http", "expect", "max_duration"], "2sec"),
    ("zero duration", "timeout: 500ms", "timeout: 0s", ["defaults", "timeout"], "0s"),
    ("bad tier", "prod: { tier: prod }", "prod: { tier: production }",
     ["environments", "prod", "tier"], "production"),
    ("missing tier", "dev:  { tier: nonprod }", "dev:  {}", ["environments", "dev"], "tier"),
    ("bad status (pattern)", "status: [200-299, 301", "status: [2xx, 301",
     C0 + ["http", "expect", "status"], "2xx"),
    ("bad status (out of range)", "status: 204", "status: 600",
     ["services", 0, "checks", 1, "http", "expect", "status"], "600"),
    ("bad scheme", "scheme: https", "scheme: ftp", C0 + ["http", "scheme"], "ftp"),
    ("port out of range", "port: 8443", "port: 70000", C0 + ["http", "port"], "70000"),
    ("path without leading slash", "path: /v1/orders", "path: v1/orders", C0 + ["http", "path"],
     "v1/orders"),
    ("boolean as a string", "follow_redirects: true", "follow_redirects: maybe",
     C0 + ["http", "follow_redirects"], "maybe"),
    ("bad body_limit", "body_limit: 512KiB", "body_limit: 512Kb", C0 + ["http", "body_limit"],
     "512Kb"),
    ("missing hostnames.public", "public: { prod: [shop.example.com], dev: [] }", "",
     ["services", 0, "hostnames"], "public"),
    ("null instead of a hostname list", "dev: [] }", "dev: }",
     ["services", 0, "hostnames", "public"], "None"),
    ("check without http", "http: { expect: { status: 204 }, body_limit: 65536 }", "",
     ["services", 0, "checks", 1], "http"),
    ("bad environment name", "dev:  { tier: nonprod }", "dev env:  { tier: nonprod }",
     ["environments"], "dev env"),
    ("jitter out of range", "jitter: 0.1", "jitter: 0.9", ["scheduler", "jitter"], "0.9"),
]


def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    schema_path = src / "config" / "envprobe.schema.json"
    failures = 0

    def fail(message):
        nonlocal failures
        failures += 1
        print(f"FAIL: {message}")

    print(f"== schema {schema_path}")
    schema = json.loads(schema_path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"FAIL: the schema itself is invalid: {e.message} "
              f"(at {'/'.join(map(str, e.absolute_path)) or 'the root'})")
        return 1
    print(f"ok   schema is a valid {cls.__name__} schema")
    validator = cls(schema)

    print("== shipped configs (must be valid)")
    for name in SHIPPED:
        path = src / "config" / name
        doc = load_yaml(path.read_text())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            for e in errors:
                fail(f"config/{name}: {'.'.join(map(str, e.absolute_path)) or '(root)'}: "
                     f"{e.message}")
        else:
            print(f"ok   config/{name}")

    print("== inline documents")
    base = load_yaml(BASE)
    errors = list(validator.iter_errors(base))
    if errors:
        for e in errors:
            fail(f"base document must be valid: {list(e.absolute_path)}: {e.message}")
    else:
        print("ok   base document (every key of both file kinds) is valid")

    for what, old, new, where, word in BROKEN:
        if BASE.count(old) != 1:
            fail(f"{what}: test case does not apply to the base document ({old!r})")
            continue
        doc = load_yaml(BASE.replace(old, new))
        errors = [(list(e.absolute_path), e.message) for e in validator.iter_errors(doc)]
        shown = ".".join(map(str, where)) or "(root)"
        if not errors:
            fail(f"{what}: accepted, but must be rejected")
        elif not any(path == where and word in message for path, message in errors):
            fail(f"{what}: rejected, but not at {shown} for {word!r} (errors: {errors})")
        else:
            message = next(m for p, m in errors if p == where and word in m)
            print(f"ok   rejected: {what}: {shown}: {message}")

    checked = 1 + len(SHIPPED) + 1 + len(BROKEN)
    if len(sys.argv) > 2:
        agreed, disagreed = check_agreement(src, Path(sys.argv[2]), validator)
        checked += agreed + disagreed
        failures += disagreed
    print(f"{checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
