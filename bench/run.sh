#!/usr/bin/env bash
# CPU per probe, probes/s, RSS and scheduling lag of envprobe next to blackbox_exporter, both
# probing the same loopback nginx over HTTP and HTTPS in one run. Builds envprobe if needed;
# installs nothing.
#   bench/run.sh                       defaults: 1000 targets every 1s, 3 rounds of 10s, 100k RSS run
#   bench/run.sh --targets 500 --interval 1s --window 10s --scale-targets 0
#   bench/run.sh --skip envprobe-https-bundle --skip blackbox-https-bundle   fewer rows
#   bench/run.sh --help                every flag
#   bench/run.sh profile [--seconds 10s]   where envprobe's CPU goes under the same load (needs perf)
#   bench/run.sh scale [--targets 10000,100000,1000000] [--interval 60s] [--scrape-interval 15s]
#                [--duration 120s] [--mem-limit-gib N]   load, memory, scrape cost at N targets
#   bench/run.sh timing [--probes 60]   probe_duration_seconds of a target answering in 200 ms
# Set ENVPROBE=/path/to/envprobe to benchmark a given binary instead of building one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"

script="$here/bench.py"
case "${1:-}" in
  profile | scale | timing)
    script="$here/$1.py"
    shift
    ;;
esac
for arg in "$@"; do
  [[ "$arg" == -h || "$arg" == --help ]] && exec /usr/bin/python3 -B "$script" --help
done

# program -> Debian package
declare -A needs=(
  [/usr/bin/python3]=python3
  [/usr/sbin/nginx]=nginx-light
)
if [[ "$script" == */bench.py ]]; then
  needs[/usr/bin/prometheus-blackbox-exporter]=prometheus-blackbox-exporter
  needs[/usr/bin/openssl]=openssl
fi
[[ "$script" == */profile.py ]] && needs[perf]=linux-perf
if [[ -z "${ENVPROBE:-}" ]]; then
  needs[cmake]=cmake
  needs[ninja]=ninja-build
  needs[g++]=g++
fi
missing=()
for program in "${!needs[@]}"; do
  command -v "$program" >/dev/null 2>&1 || missing+=("${needs[$program]}")
done
if ((${#missing[@]})); then
  echo "bench: missing Debian packages: ${missing[*]}" >&2
  echo "bench: install them with: apt-get install ${missing[*]}" >&2
  exit 1
fi
[[ "$script" != */bench.py ]] || command -v wrk >/dev/null 2>&1 || echo "bench: wrk not installed (Debian package wrk): its reference row is left out" >&2

binary="${ENVPROBE:-}"
if [[ -z "$binary" ]]; then
  if [[ ! -f "$root/build/build.ninja" ]]; then
    cmake -S "$root" -B "$root/build" -G Ninja >/dev/null
  fi
  if ! cmake --build "$root/build" --target envprobe >&2; then
    [[ -x "$root/build/envprobe" ]] || { echo "bench: envprobe does not build" >&2; exit 1; }
    echo "bench: the build failed; benchmarking the envprobe binary built before" >&2
  fi
  binary="$root/build/envprobe"
fi

work="$(mktemp -d /tmp/envprobe-bench.XXXXXX)"
pid=""
cleanup() {
  # The python script stops nginx, envprobe and blackbox_exporter itself when it gets SIGTERM.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private copy, so a rebuild during the run does not change what is measured.
cp "$binary" "$work/envprobe"
extra=()
if [[ "$script" == */bench.py ]]; then
  # The libcurl-alone reference row (libcurl4-openssl-dev is a build dependency of envprobe).
  if cc -O2 -o "$work/curl_floor" "$here/curl_floor.c" -lcurl -lm 2>"$work/curl_floor.err"; then
    extra+=(--curl-floor "$work/curl_floor")
  else
    echo "bench: bench/curl_floor.c does not build (libcurl4-openssl-dev?): its row is left out" >&2
  fi
fi
/usr/bin/python3 -B "$script" --envprobe "$work/envprobe" --workdir "$work/run" "${extra[@]}" "$@" &
pid=$!
wait "$pid"
