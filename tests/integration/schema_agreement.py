"""The JSON schema and `envprobe check-config` must agree on every example config and fixture.

Each YAML file is one case: the schema validates that file alone (an included catalog is a case
of its own), check-config loads it with everything it includes and runs the coverage audit.
"""
import re
import subprocess
from pathlib import Path

import yaml


class EnvprobeYamlLoader(yaml.SafeLoader):
    """Reads scalars the way envprobe's loader (yaml-cpp) does: an unquoted 2026-11-22T01:00:00Z
    stays a string (no YAML 1.1 timestamps), and only true/false are booleans (yes, on, True
    are not: envprobe refuses them where a boolean is expected)."""


EnvprobeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
EnvprobeYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                                         list("tf"))


def load_yaml(text):
    return yaml.load(text, Loader=EnvprobeYamlLoader)

# Fixtures the schema accepts and check-config refuses, because the rule they break is beyond a
# JSON schema: relative to tests/fixtures/, with the reason.
LOADER_ONLY = {
    "coverage-gap/at.yaml":
        "the coverage audit spans files: the included catalog leaves environment at unspoken for",
    "coverage-gap/services.yaml":
        "the coverage audit compares a hostname map's keys with the declared environments",
    "config/invalid/dns-timeout-overflow.yaml":
        "duration ranges: a string pattern cannot compare 30d with 1m",
    "config/invalid/interval-too-short.yaml":
        "duration ranges: a string pattern cannot compare 50ms with 100ms",
    "config/invalid/body-limit-string.yaml":
        "size ranges: a string pattern cannot compare 2GiB with 1GiB (the integer form has a maximum)",
    "config/invalid/regex-too-costly.yaml":
        "the cost of an RE2 pattern is known only once RE2 compiles it",
    "config/invalid/window-name-duplicate.yaml":
        "uniqueness of one field across list items (uniqueItems compares whole items)",
    "config/invalid/backend-duplicate-spelling.yaml":
        "two spellings of one address compare equal only once parsed ([FD00:0::5] is [fd00::5])",
    "config/invalid/hostname-claimed-twice.yaml":
        "a hostname claimed by two services is a cross-service rule of the coverage audit",
    "config/invalid/include-directory.yaml":
        "what an include names on disk is known only when it is read",
    "config/invalid/include-device.yaml":
        "what an include names on disk is known only when it is read",
}


def schema_accepts(validator, path):
    try:
        doc = load_yaml(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return False, f"not YAML: {e}"
    errors = sorted(validator.iter_errors({} if doc is None else doc),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return True, ""
    e = errors[0]
    return False, f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"


def loader_accepts(envprobe, path):
    try:
        run = subprocess.run([str(envprobe), "check-config", str(path)], capture_output=True,
                             text=True, errors="replace", timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, "check-config did not finish within 60 s"
    first = next((line for line in run.stderr.splitlines() if ": error: " in line), "")
    return run.returncode == 0, first or run.stderr.strip()[:300]


def check_agreement(src, envprobe, validator):
    """Returns (cases that behaved, cases that did not); prints one line per case."""
    fixtures = src / "tests" / "fixtures"
    cases = sorted((src / "config").glob("*.yaml")) + sorted(fixtures.rglob("*.yaml"))
    good = bad = 0
    print(f"== schema and {envprobe.name} check-config agree ({len(cases)} files)")
    for path in cases:
        name = str(path.relative_to(src))
        key = str(path.relative_to(fixtures)) if fixtures in path.parents else None
        schema_ok, schema_why = schema_accepts(validator, path)
        loader_ok, loader_why = loader_accepts(envprobe, path)
        parts = set(path.relative_to(src).parts)
        problems = []
        if "invalid" in parts and loader_ok:
            problems.append("a fixture under invalid/ must be refused by check-config")
        if "valid" in parts and not loader_ok:
            problems.append("a fixture under valid/ must be accepted by check-config")
        if key in LOADER_ONLY:
            if not schema_ok or loader_ok:
                problems.append(f"listed as loader-only ({LOADER_ONLY[key]}), so the schema must "
                                "accept it and check-config refuse it")
        elif schema_ok != loader_ok:
            problems.append("the schema and check-config disagree")
        verdict = (f"schema {'accepts' if schema_ok else 'rejects'}, "
                   f"check-config {'accepts' if loader_ok else 'rejects'}")
        if problems:
            bad += 1
            print(f"FAIL {name}: {verdict}; " + "; ".join(problems))
            if schema_why:
                print(f"       schema: {schema_why}")
            if loader_why:
                print(f"       check-config: {loader_why}")
        else:
            good += 1
            why = f" (loader-only: {LOADER_ONLY[key]})" if key in LOADER_ONLY else ""
            print(f"ok   {name}: {verdict}{why}")
    stale = [k for k in LOADER_ONLY if not (fixtures / k).is_file()]
    for k in stale:
        bad += 1
        print(f"FAIL LOADER_ONLY names {k}, which is not a fixture")
    return good, bad
