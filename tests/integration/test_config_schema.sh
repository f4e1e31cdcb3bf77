#!/usr/bin/env bash
# config/envprobe.schema.json is a valid JSON Schema, the shipped configs pass it, and broken
# documents fail it. Runs Debian's own python3 (not whichever python3 is first on PATH), which
# has the Debian packages python3-jsonschema and python3-yaml.
set -euo pipefail

src="${ENVPROBE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
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

# -I: ignore PYTHONPATH, PYTHONHOME and the user's site-packages, so only Debian's modules load.
"$python" -I "$src/tests/integration/validate_schema.py" "$src"
echo "PASS: config schema"
