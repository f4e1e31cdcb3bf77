#!/usr/bin/env bash
# The command line of the built binary, as an operator or a pipeline meets it:
#   1. `envprobe COMMAND --help` and `envprobe help COMMAND` print the command's usage, flags and
#      exit codes on stdout and exit 0, for every command; `--help` alone prints the overview;
#   2. usage errors exit 2 with a clear message on stderr: an unknown command (also as a help
#      topic), an unknown flag, a bad --config.auto-reload-interval, no command at all;
#   3. `once` on a config whose environment expands to zero targets exits 2 and says which
#      environment and which file, while `check-config` passes with a warning.
# Nothing is probed and nothing listens: no ports, no network.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_envprobe

# ep_run NAME ARGS...: run the binary (bounded); sets RC, OUT and ERR (files).
ep_run() {
  local name="$1"
  shift
  OUT="$EP_TMP/$name.out"
  ERR="$EP_TMP/$name.err"
  RC=0
  timeout -k 5 30 "$ENVPROBE" "$@" </dev/null >"$OUT" 2>"$ERR" || RC=$?
  [[ "$RC" != 124 && "$RC" != 137 ]] || die "envprobe $* did not finish within 30s"
}

# expect_contains WHAT FILE TEXT
expect_contains() {
  if grep -qF -- "$3" "$2"; then
    pass "$1 mentions '$3'"
  else
    fail "$1: expected '$3' in: $(head -c 1500 "$2")"
  fi
}

expect_empty() {
  if [[ ! -s "$2" ]]; then pass "$1 is empty"; else fail "$1: expected nothing, saw: $(head -c 500 "$2")"; fi
}

step "every command's help: usage, flags, exit codes; stdout, exit 0"
declare -A flags=(
  [run]="--config.file --config.auto-reload-interval --web.listen-address --web.config.file --log.level"
  [once]="--config.file --format"
  [check-config]="--list-targets --config.file"
  [demo]="--demo.duration --web.listen-address"
  [version]=""
  [help]=""
)
for command in run once check-config demo version help; do
  for form in "$command --help" "help $command" "-h $command"; do
    # shellcheck disable=SC2086 # the form is words on purpose
    ep_run "help-$command" $form
    expect_eq "exit code of 'envprobe $form'" 0 "$RC"
    expect_contains "'envprobe $form'" "$OUT" "usage: envprobe $command"
    expect_contains "'envprobe $form'" "$OUT" "Exit codes:"
    expect_empty "stderr of 'envprobe $form'" "$ERR"
  done
  for flag in ${flags[$command]}; do
    expect_contains "'envprobe $command --help'" "$OUT" "$flag"
  done
done
ep_run help-run run --help
for part in "SIGHUP" "POST /-/reload" "/-/ready" "/-/healthy" "/metrics" "Default 0: off" \
  "0  clean stop on SIGTERM or SIGINT" "1  cannot start"; do
  expect_contains "'envprobe run --help'" "$OUT" "$part"
done
ep_run help-once once --help
expect_contains "'envprobe once --help'" "$OUT" "2  usage error, no or an invalid config, or a config whose environment expands to zero"
ep_run help-check check-config --help
expect_contains "'envprobe check-config --help'" "$OUT" "0  valid (warnings allowed)"

for form in "--help" "help" "-h"; do
  # shellcheck disable=SC2086
  ep_run overview $form
  expect_eq "exit code of 'envprobe $form'" 0 "$RC"
  expect_contains "'envprobe $form'" "$OUT" "usage: envprobe [<flags>] <command>"
  expect_contains "'envprobe $form'" "$OUT" "envprobe COMMAND --help"
  for command in run once check-config demo version help; do
    expect_contains "'envprobe $form'" "$OUT" "  $command "
  done
done

step "usage errors exit 2 and say what is wrong"
ep_run unknown-command frobnicate
expect_eq "exit code of an unknown command" 2 "$RC"
expect_contains "stderr of an unknown command" "$ERR" 'unknown command "frobnicate" (commands: run, once, check-config, demo, deploy, gate, version, help)'
expect_contains "stderr of an unknown command" "$ERR" "Try 'envprobe --help'."
expect_empty "stdout of an unknown command" "$OUT"

ep_run unknown-topic help frobnicate
expect_eq "exit code of 'help frobnicate'" 2 "$RC"
expect_contains "stderr of 'help frobnicate'" "$ERR" 'unknown command "frobnicate"'

ep_run unknown-flag run --frob
expect_eq "exit code of an unknown flag" 2 "$RC"
expect_contains "stderr of an unknown flag" "$ERR" "unknown flag --frob"
expect_contains "stderr of an unknown flag" "$ERR" "Try 'envprobe run --help'."

for bad in soon 30 -5s 2y; do
  ep_run bad-interval run --config.file="$ENVPROBE_SOURCE_DIR/config/at.yaml" \
    --config.auto-reload-interval="$bad"
  expect_eq "exit code of --config.auto-reload-interval=$bad" 2 "$RC"
  expect_contains "stderr of --config.auto-reload-interval=$bad" "$ERR" \
    "--config.auto-reload-interval \"$bad\": not a duration"
done
ep_run bad-interval-no-value run --config.auto-reload-interval
expect_eq "exit code of --config.auto-reload-interval without a value" 2 "$RC"
expect_contains "its stderr" "$ERR" "flag --config.auto-reload-interval needs a value"

ep_run no-command
expect_eq "exit code without a command" 2 "$RC"
expect_contains "stderr without a command" "$ERR" "error: no command given"
expect_empty "stdout without a command" "$OUT"

step "once on a config that expands to zero targets for its environment"
mkdir -p "$EP_TMP/empty"
cat >"$EP_TMP/empty/services.yaml" <<'YAML'
environments: { at: { tier: nonprod }, prod: { tier: prod } }
services:
  - name: web
    hostnames: { internal: { at: [], prod: [web.prod.invalid] }, public: [] }
    checks: [{ name: home, http: {} }]
YAML
printf 'environment: at\ninclude: [services.yaml]\n' >"$EP_TMP/empty/at.yaml"
for format in table json; do
  ep_run once-empty-$format once --config.file="$EP_TMP/empty/at.yaml" --format=$format
  expect_eq "exit code of once --format=$format with zero targets" 2 "$RC"
  expect_contains "stderr of once with zero targets" "$ERR" \
    "error: $EP_TMP/empty/at.yaml: environment \"at\" expands to zero targets"
  expect_contains "stderr of once with zero targets" "$ERR" "$EP_TMP/empty/services.yaml"
  expect_empty "stdout of once --format=$format with zero targets" "$OUT"
done

printf 'environment: at\nenvironments: { at: { tier: nonprod } }\nservices: []\n' \
  >"$EP_TMP/empty/no-services.yaml"
ep_run once-no-services once --config.file="$EP_TMP/empty/no-services.yaml"
expect_eq "exit code of once on a catalog without services" 2 "$RC"
expect_contains "stderr of once on a catalog without services" "$ERR" \
  "warning: services: the catalog has no services"

ep_run check-empty check-config "$EP_TMP/empty/at.yaml"
expect_eq "exit code of check-config with zero targets (a warning only)" 0 "$RC"
expect_contains "stderr of check-config with zero targets" "$ERR" \
  "warning: environments.at: environment \"at\" would probe zero targets; it is this agent's environment"
expect_contains "stdout of check-config with zero targets" "$OUT" "environment at probes 0 target(s)"

finish "cli"
