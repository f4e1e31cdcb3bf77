#!/usr/bin/env bash
# The shipped Alertmanager routing tree sends each kind of envprobe alert to the right receiver
# (amtool, offline), and its inhibition rules hold in a real Alertmanager on a loopback port.
set -euo pipefail

src="${ENVPROBE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
config="$src/config/alertmanager.yml"

for tool in amtool prometheus-alertmanager curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool not found (Debian packages prometheus-alertmanager, curl, python3)" >&2
    exit 1
  fi
done

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

echo "== amtool check-config $config"
amtool check-config "$config"

# expect_route RECEIVER LEAF LABEL...: the alert routes to exactly RECEIVER, and the deepest
# matching route printed by --tree is LEAF (a route's matchers, or default-route for a route
# without matchers).
expect_route() {
  local want="$1" leaf="$2"
  shift 2
  local got tree last
  echo "-- $* => $want via $leaf"
  if ! got="$(amtool config routes test --config.file="$config" --verify.receivers="$want" "$@" 2>/dev/null)"; then
    fail "$*: amtool --verify.receivers=$want failed (printed: ${got//$'\n'/ })"
    return 0
  fi
  if [[ "$got" != "$want" ]]; then
    fail "$*: expected receiver '$want', amtool printed '${got//$'\n'/ }'"
    return 0
  fi
  tree="$(amtool config routes test --config.file="$config" --tree "$@" 2>/dev/null)"
  last="$(grep -E 'receiver: ' <<<"$tree" | tail -n 1 | sed -E 's/^[│├└─ ]*//; s/ +receiver: .*$//')"
  if [[ "$last" != "$leaf" ]]; then
    fail "$*: expected leaf route '$leaf', got '$last'"
  fi
}

echo "== routes (amtool config routes test)"
# Label sets as rules.yml produces them; the two bare ones are what a minimal sender pushes.
expect_route pager '{env="prod"}' \
  alertname=ProbeFailed env=prod severity=page priority=P1 service=shop hostname=shop.example.com visibility=public
expect_route pager '{env="prod"}' alertname=ProbeFailed env=prod
expect_route pager '{env="prod"}' alertname=CertificateExpired env=prod severity=page priority=P1
expect_route pager '{env="prod"}' alertname=EnvprobeAgentDown env=prod severity=page priority=P2
expect_route pager '{env="prod"}' alertname=EnvprobeAgentAbsent env=prod severity=page priority=P2
expect_route default '{severity=~"warning|info"}' \
  alertname=CertificateExpiringSoon env=prod severity=warning priority=P3
expect_route nonprod-low-priority default-route \
  alertname=ProbeFailed env=at severity=ticket priority=P4 queue=nonprod service=shop hostname=shop-at.example.com
expect_route nonprod-low-priority default-route \
  alertname=ProbeFailed env=dev severity=ticket priority=P4 queue=nonprod service=shop hostname=shop.dev.local
expect_route nonprod-low-priority default-route alertname=ProbeFailed env=at
expect_route nonprod-low-priority default-route alertname=ProbeFailed env=staging severity=ticket
expect_route nonprod-low-priority default-route alertname=EnvprobeAgentAbsent env=dev severity=ticket
expect_route nonprod-low-priority '{escalated="true"}' \
  alertname=NonProdProbeFailingLong env=at severity=ticket priority=P3 queue=nonprod escalated=true
expect_route nonprod-low-priority '{escalated="true"}' \
  alertname=NonProdProbeFailingLong env=dev severity=ticket priority=P3 queue=nonprod escalated=true
expect_route default default-route alertname=ProbeFailed service=shop

# The business-hours restriction sits on the non-prod catch-all route only, so escalated
# alerts (routed to the {escalated="true"} leaf above) are delivered at any hour.
echo "== business-hours applies to the non-prod catch-all route only"
holders="$(awk '
  /^ *- (matchers|receiver):/ { item = $0; sub(/^ *- /, "", item) }
  /active_time_intervals:/    { print item " -> " $0 }' "$config" | sed -E 's/ +/ /g')"
echo "$holders"
if [[ "$holders" != "receiver: nonprod-low-priority -> active_time_intervals: [business-hours]" ]]; then
  fail "active_time_intervals must appear once, on the matcher-less nonprod-low-priority route"
fi
for want in "name: business-hours" "weekdays: ['monday:friday']" "start_time: '08:00'" "end_time: '18:00'"; do
  grep -qF -- "$want" "$config" || fail "time interval business-hours: '$want' not found"
done

echo "== inhibition in a real Alertmanager"
work="$(mktemp -d)"
am_pid=""
cleanup() {
  if [[ -n "$am_pid" ]]; then
    kill "$am_pid" 2>/dev/null || true
    wait "$am_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
prometheus-alertmanager --config.file="$config" --storage.path="$work" \
  --web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$work/alertmanager.log" 2>&1 &
am_pid=$!
for _ in $(seq 100); do
  curl -sf "$url/-/ready" >/dev/null 2>&1 && break
  kill -0 "$am_pid" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "$url/-/ready" >/dev/null 2>&1; then
  cat "$work/alertmanager.log" >&2
  echo "FAIL: Alertmanager did not become ready on $url" >&2
  exit 1
fi
echo "Alertmanager ready on $url"

add_alert() { amtool alert add --alertmanager.url="$url" "$@" >/dev/null; }
add_alert alertname=EnvprobeAgentDown env=dev job=envprobe instance=agent.dev.local:9464 severity=ticket
add_alert alertname=ProbeFailed env=dev service=shop check=home hostname=shop.dev.local visibility=internal
add_alert alertname=ProbeFailed env=prod service=shop check=home hostname=shop.example.com visibility=public
add_alert alertname=NonProdProbeFailingLong env=at service=shop check=home hostname=shop-at.example.com \
  visibility=public escalated=true
add_alert alertname=ProbeFailed env=at service=shop check=home hostname=shop-at.example.com visibility=public
add_alert alertname=ProbeFailed env=at service=shop check=home hostname=shop.at.local visibility=internal

# count STATE_FLAG MATCHER...: alerts in that state (-a active, -i inhibited) matching.
count() {
  local flag="$1"
  shift
  amtool alert query --alertmanager.url="$url" "$flag" -o extended "$@" 2>/dev/null | tail -n +2 | grep -c . || true
}
# expect_state active|inhibited MATCHER...: polled, as the inhibitor works asynchronously.
expect_state() {
  local state="$1" flag
  shift
  [[ "$state" == active ]] && flag=-a || flag=-i
  echo "-- $* => $state"
  for _ in $(seq 50); do
    [[ "$(count "$flag" "$@")" == 1 ]] && return 0
    sleep 0.1
  done
  fail "$*: not $state (active: $(count -a "$@"), inhibited: $(count -i "$@"))"
}
# Inhibited first: once those hold, the inhibitor has seen every source alert, so the
# "active" expectations below cannot pass merely because it is behind.
expect_state inhibited alertname=ProbeFailed env=dev hostname=shop.dev.local
expect_state inhibited alertname=ProbeFailed env=at hostname=shop-at.example.com
expect_state active alertname=EnvprobeAgentDown env=dev
expect_state active alertname=NonProdProbeFailingLong env=at hostname=shop-at.example.com
expect_state active alertname=ProbeFailed env=prod hostname=shop.example.com
expect_state active alertname=ProbeFailed env=at hostname=shop.at.local

if ((failures > 0)); then
  echo "FAIL: $failures Alertmanager expectation(s) not met" >&2
  exit 1
fi
echo "PASS: Alertmanager routes and inhibitions"
