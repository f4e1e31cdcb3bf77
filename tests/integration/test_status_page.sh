#!/usr/bin/env bash
# The status page in a real browser: a real nginx serves one hostname that answers 200 and
# one (the forgotten public name) that answers 503; the real agent probes both services; headless
# Chromium (Selenium, chromedriver) loads the page on a phone-sized and a desktop screen and checks
# the banner (1 failing), the order (the failing target first, with its down-since), the filter
# form (state=down shows only the failing row), and that the page loads nothing from elsewhere.
# Screenshots: ${ENVPROBE_ARTEFACTS:-$PWD}/status-page-{phone,desktop}.png.
# Everything listens on 127.0.0.1 only, on ports picked at run time; Chromium can reach nothing
# else.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe
require_cmd curl "Debian package curl"
require_cmd "$NGINX" "Debian package nginx-light"
missing_browser="install the Debian packages chromium chromium-driver python3-selenium (./run.sh test does)"
require_cmd /usr/bin/chromium "$missing_browser"
require_cmd /usr/bin/chromedriver "$missing_browser"
"$EP_PY" -c 'import selenium' 2>/dev/null ||
  die "$EP_PY cannot import selenium: $missing_browser"

web_port=$(free_port)
agent_port=$(free_port)
failing=zulu-public.sp.test
nginx_start web "
  server {
    listen 127.0.0.1:$web_port default_server;
    server_name alpha.sp.test zulu.sp.test;
    location / { return 200 'ok\n'; }
  }
  server {
    listen 127.0.0.1:$web_port;
    server_name $failing;
    location / { return 503 'no binding for this hostname\n'; }
  }" "$web_port"

cat >"$EP_TMP/agent.yaml" <<YAML
environment: at
environments: { at: { tier: nonprod } }
defaults: { interval: 1s, timeout: 1s }
$(loopback_dns_yaml)
services:
  - name: alpha
    hostnames: { internal: [alpha.sp.test], public: [] }
    backends: { at: ["127.0.0.1:$web_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200] } }
  - name: zulu
    hostnames: { internal: [zulu.sp.test], public: [$failing] }
    backends: { at: ["127.0.0.1:$web_port"] }
    checks:
      - name: home
        http: { scheme: http, path: /, expect: { status: [200] } }
YAML

step "the agent probes alpha (200), zulu (200) and $failing (503)"
start_bg_direct agent "$ENVPROBE" run --config.file="$EP_TMP/agent.yaml" \
  --web.listen-address="127.0.0.1:$agent_port" --storage.path="$EP_TMP/data"
wait_tcp agent "$BG_PID" 127.0.0.1 "$agent_port"
base="http://127.0.0.1:$agent_port"

# all_probed: every target probed once, the failing one down with a down-since.
all_probed() {
  curl -s --max-time 3 "$base/api/v1/targets" >"$EP_TMP/targets.json" || return 1
  jq_py "(len(d) == 3 and all(t['last_probe_unix'] > 0 for t in d) and
          [(t['hostname'], t['success'], t['down_since'] is not None) for t in d if not t['success']]
          == [('$failing', False, True)]) or sys.exit(1)" "$EP_TMP/targets.json" >/dev/null 2>&1
}
wait_until 20 all_probed ||
  die "the agent did not probe all three targets with $failing down: $(cat "$EP_TMP/targets.json" 2>/dev/null)"
pass "all three targets probed, $failing down"

step "the page over plain HTTP"
expect_eq "GET / status" 200 "$(curl -s --max-time 3 -o "$EP_TMP/page.html" -w '%{http_code}' "$base/")"
grep -q 'id="banner" class="banner failing">1 failing' "$EP_TMP/page.html" ||
  fail "the banner does not say 1 failing: $(grep -o '<div id="banner"[^<]*' "$EP_TMP/page.html")"
expect_eq "rows shown with ?state=down" 1 \
  "$(curl -s --max-time 3 "$base/?state=down" | grep -c '<tr class="row ' || true)"

step "headless Chromium: phone and desktop"
out_dir="${ENVPROBE_ARTEFACTS:-$PWD}"
mkdir -p "$EP_TMP/home" "$EP_TMP/chromium"
browser_rc=0
HOME="$EP_TMP/home" XDG_CONFIG_HOME="$EP_TMP/home" XDG_CACHE_HOME="$EP_TMP/home" \
  timeout -k 5 120 "$EP_PY" "$EP_LIB_DIR/status_page_browser.py" "$base/" "$out_dir" \
  "$EP_TMP/chromium" "$failing" 3 || browser_rc=$?
case "$browser_rc" in
  0) pass "the browser checks held" ;;
  1) fail "the browser checks above did not hold" ;;
  124 | 137) fail "the browser checks did not finish within 120s" ;;
  *)
    tail -n 30 "$EP_TMP/chromium/chromedriver.log" >&2 2>/dev/null || true
    fail "headless Chromium could not run the checks (exit $browser_rc)"
    ;;
esac
finish status_page
