#!/usr/bin/env bash
# The shipped Prometheus rules and scrape config load, and the rules behave as their unit tests
# say (promtool from the Debian package prometheus). test_dashboards.sh also runs the rules on
# series captured from running agents.
set -euo pipefail

src="${ENVPROBE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
rules="$src/config/prometheus/rules.yml"
rule_tests="$src/config/prometheus/rules_test.yml"
scrape_config="$src/config/prometheus/prometheus.yml"

if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool not found (install the Debian package prometheus)" >&2
  exit 1
fi

echo "== promtool check rules $rules"
promtool check rules "$rules"

# The shipped scrape config (it loads rules.yml); test_dashboards.sh runs a real Prometheus on it.
echo "== promtool check config $scrape_config"
promtool check config "$scrape_config"

# The unit tests cover: ProbeFailed in prod (page/P1) and non-prod (ticket/P4/queue=nonprod),
# not firing before its for-duration; NonProdProbeFailingLong after 24h for non-prod only,
# across a scrape gap, restarted by a success; CertificateExpiringSoon and CertificateExpired
# per tier; EnvprobeAgentDown and EnvprobeAgentAbsent per environment.
echo "== promtool test rules $rule_tests"
promtool test rules "$rule_tests"

echo "PASS: Prometheus rules"
