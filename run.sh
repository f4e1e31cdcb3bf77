#!/usr/bin/env bash
# envprobe's two entry points on a fresh Debian machine:
#   ./run.sh demo   build, then run the agent on its built-in demo site (no network needed)
#   ./run.sh test   build, then run the whole test suite (unit + integration against real programs)
# Both install the Debian packages that are missing (and only those) first.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libcurl4-openssl-dev libc-ares-dev
  prometheus-cpp-dev libyaml-cpp-dev libspdlog-dev catch2 libre2-dev nlohmann-json3-dev libssl-dev)
TEST_PACKAGES=(nginx-light openssl dnsmasq-base prometheus prometheus-alertmanager
  python3-jsonschema python3-yaml curl)

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

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build
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
    build
    cd build
    exec ctest --output-on-failure -j2
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
