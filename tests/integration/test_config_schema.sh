#!/usr/bin/env bash
# config/envprobe.schema.json is a valid JSON Schema, the shipped configs pass it, broken
# documents fail it, and it agrees with `envprobe check-config` on every example config and
# fixture (tests/integration/schema_agreement.py). Runs Debian's own python3 (not whichever python3 is first on PATH), which
# has the Debian packages python3-jsonschema and python3-yaml.
set -euo pipefail

src="${ENVPROBE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
envprobe="${ENVPROBE:-$src/build/envprobe}"
python=/usr/bin/python3

if [[ ! -x "$python" ]]; then
  echo "FAIL: $python not found (install the Debian package python3)" >&2
  exit 1
fi
if ! "$python" -I -c 'import jsonschema, yaml' 2>/dev/null; then
  echo "FAIL: $python lacks jsonschema or yaml (install the Debian packages" \
       "python3-jsonschema and python3-yaml)" >&2
  exit 1
fi

if [[ ! -x "$envprobe" ]]; then
  echo "FAIL: $envprobe not found or not executable (build first, or set ENVPROBE)" >&2
  exit 1
fi

# -I: ignore PYTHONPATH, PYTHONHOME and the user's site-packages, so only Debian's modules load;
# -B: leave no __pycache__ in the source tree.
"$python" -I -B "$src/tests/integration/validate_schema.py" "$src" "$envprobe"
echo "PASS: config schema"
