#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SEED_DIR SECONDS ARTIFACT_DIR [DICT]: fuzz for a bounded time, starting
# from a copy of the seed corpus in a temp dir (the repository is never written), with a memory
# cap and a per-input time limit. On a finding, the reproducer is kept in ARTIFACT_DIR (in the
# build tree, emptied at each run), its bytes are printed, and the script fails; to keep it as a
# regression input, commit it under tests/fuzz/crashes/<target>/.
set -euo pipefail
fuzzer="$1" seeds="$2" seconds="$3" artifacts="$4" dict="${5:-}"
name="$(basename "$fuzzer")"

work="$(mktemp -d "${TMPDIR:-/tmp}/envprobe-fuzz-$name.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
rm -f "$artifacts"/* # what is left there is from an earlier run
cp -R "$seeds"/. "$work/corpus/"

args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1
  -artifact_prefix="$artifacts/")
[[ -n "$dict" ]] && args+=(-dict="$dict")

echo "fuzzing $name for ${seconds}s from $(find "$seeds" -type f | wc -l) seed(s)"
rc=0
(cd "$work" && TMPDIR="$work" "$fuzzer" "${args[@]}" "$work/corpus") \
  >"$work/log" 2>&1 || rc=$?
# libFuzzer's progress lines are many; the start, the stats and any report are what matter.
if ((rc == 0)); then
  grep -E '^(INFO: Seed|INFO: seed corpus|#[0-9]+\s+(INITED|DONE)|Done [0-9]+ runs|stat::)' \
    "$work/log" || true
  echo "PASS: $name: no crash, leak, timeout or out-of-memory in ${seconds}s"
  exit 0
fi
grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse|RELOAD)' "$work/log" | tail -n 120
for f in "$artifacts"/*; do
  [[ -f "$f" ]] || continue
  echo "---- reproducer $f ($(wc -c <"$f") bytes), as hex:"
  od -A d -t x1z -v "$f" | head -n 40
done
echo "FAIL: $name found a problem (exit $rc); replay it with: $fuzzer <reproducer>" >&2
exit 1
