#!/usr/bin/env bash
# envprobe's two entry points on a fresh Debian machine:
#   ./run.sh demo   build, then run the agent on its built-in demo site (no network needed)
#   ./run.sh test   build, then run the whole test suite, in three stages:
#     main   RelWithDebInfo build in build/, every ctest test (unit + integration against real
#            programs)
#     asan   g++ with AddressSanitizer + UndefinedBehaviorSanitizer (ENVPROBE_SANITIZE) in
#            build-asan/: the unit tests, the replays of the fuzz inputs, and the integration
#            tests labelled `hostile` (see tests/CMakeLists.txt); a sanitizer report fails it,
#            also one from an agent that a script ran in the background
#     fuzz   clang + libFuzzer (ENVPROBE_FUZZ) in build-fuzz/: each fuzz target in tests/fuzz/
#            fuzzes for ENVPROBE_FUZZ_SECONDS (default 30) from a temp copy of its seed corpus,
#            and the saved crash reproducers are replayed (ctest label `fuzz`)
#   Each stage prints its ctest output; at the end come each stage's ctest summary line and the
#   totals. The script fails if any stage fails, after running them all. Pick stages with
#   ENVPROBE_TEST_STAGES, e.g.
#     ENVPROBE_TEST_STAGES="main asan" ./run.sh test
# Both install the Debian packages that are missing (and only those) first. Builds use Ninja
# (its default parallelism) and ccache when it is installed.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libcurl4-openssl-dev libc-ares-dev
  prometheus-cpp-dev libyaml-cpp-dev libspdlog-dev catch2 libre2-dev nlohmann-json3-dev libssl-dev
  libsqlite3-dev zlib1g-dev)
TEST_PACKAGES=(nginx-light openssl dnsmasq-base prometheus prometheus-alertmanager
  python3-jsonschema python3-yaml curl clang libfuzzer-14-dev libclang-rt-14-dev
  chromium chromium-driver python3-selenium)

install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  ((EUID != 0)) && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure DIR CMAKE_ARGS...: configure a build tree (with ccache if there is one).
configure() {
  local dir="$1"
  shift
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "$@" >/dev/null
}

build() {
  configure build && cmake --build build
}

# run_ctest STAGE DIR CTEST_ARGS...: run ctest in DIR, keep its summary line for the end.
run_ctest() {
  local stage="$1" dir="$2" rc=0 summary
  shift 2
  (cd "$dir" && ctest --output-on-failure -j2 "$@") 2>&1 | tee "$dir/ctest-$stage.log" || rc=$?
  summary=$(grep -E '^[0-9]+% tests passed' "$dir/ctest-$stage.log" | tail -n 1 || true)
  STAGE_SUMMARY="${summary:-no ctest summary}"
  return "$rc"
}

# Sanitizer settings for every process the sanitized tests start: leaks count, the first error
# stops the process (so no test can pass past it), and UBSan prints where it happened.
sanitizer_env() {
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
}

# The stages run in a `||` context, where `set -e` does not apply: each step returns explicitly.
stage_main() {
  build || return
  run_ctest main build
}

# Builds only what the selected tests need: the agent, the unit test binary, the fuzz replays.
stage_asan() {
  sanitizer_env
  # -O1 and line tables only: half the compile time of -O2 -g, and still precise reports.
  CXX=g++ configure build-asan -DENVPROBE_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" ||
    return
  cmake --build build-asan --target envprobe envprobe_tests fuzz_targets || return
  # A sanitized binary that does not start (a runtime missing) fails here, not in every test.
  ./build-asan/envprobe --version >/dev/null ||
    { echo "asan: the sanitized envprobe does not run" >&2; return 1; }
  run_ctest asan build-asan -L '^(unit|fuzz-replay|hostile)$'
}

stage_fuzz() {
  sanitizer_env
  CC=clang CXX=clang++ configure build-fuzz -DENVPROBE_FUZZ=ON \
    -DENVPROBE_FUZZ_SECONDS="${ENVPROBE_FUZZ_SECONDS:-30}" || return
  cmake --build build-fuzz --target fuzz_targets || return
  run_ctest fuzz build-fuzz -L '^fuzz$'
}

case "${1:-}" in
  demo)
    install_missing "${BUILD_PACKAGES[@]}"
    build
    shift
    exec ./build/envprobe demo "$@"
    ;;
  test)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    summaries=()
    failed=()
    total_passed=0
    total_failed=0
    for stage in ${ENVPROBE_TEST_STAGES:-main asan fuzz}; do
      case "$stage" in
        main | asan | fuzz) ;;
        *)
          echo "ENVPROBE_TEST_STAGES: unknown stage '$stage' (main, asan, fuzz)" >&2
          exit 2
          ;;
      esac
      echo "==== stage $stage"
      start=$SECONDS
      STAGE_SUMMARY="did not reach ctest"
      status=passed
      "stage_$stage" || { status=FAILED; failed+=("$stage"); }
      summaries+=("stage $stage: $status in $((SECONDS - start))s: $STAGE_SUMMARY")
      if [[ "$STAGE_SUMMARY" =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
        total_failed=$((total_failed + BASH_REMATCH[1]))
        total_passed=$((total_passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
      fi
    done
    echo "==== summary (${SECONDS}s in all)"
    for line in "${summaries[@]}"; do echo "$line"; done
    echo "tests: $total_passed passed, $total_failed failed"
    if ((${#failed[@]} > 0)); then
      echo "FAILED stage(s): ${failed[*]}" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
