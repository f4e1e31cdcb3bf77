// The texts of `envprobe --help` and `envprobe COMMAND --help` (also `envprobe help COMMAND`).
// Each command's text gives its usage, its flags with their defaults and its exit codes.
#include "probe/cmd/cli.hpp"

namespace envprobe {

namespace {

const char* const kLogFlags = R"(  --log.level=LEVEL      debug | info | warn | error (default info).
  --log.format=FORMAT    logfmt | json (default logfmt).
)";

const char* const kRunText = R"(usage: envprobe run --config.file=FILE [<flags>]

Run the agent: probe every target of the config's environment on its schedule, push failures
to Alertmanager (if configured) and serve on --web.listen-address:
  /metrics           probe results under blackbox_exporter's names, and envprobe_* agent metrics
  /                  the status page; /api/v1/targets the same as JSON
  /-/healthy         200 while the process serves
  /-/ready           200 once the agent is ready to serve its probe results, 503 before
  /-/reload          POST: reload the configuration, like SIGHUP

Reloading: SIGHUP or `POST /-/reload` reloads the configuration live. Targets that did not
change keep their state (series, alert state, schedule); added ones start, removed ones stop.
A file that fails to load or validate is reported with its errors, and the old configuration
keeps running.
SIGTERM and SIGINT stop the agent cleanly: probing stops, probes in flight are cancelled,
pending alerts are delivered for at most 3s.

Flags:
  --config.file=FILE     The agent config file, e.g. config/at.yaml (required).
  --config.auto-reload-interval=DURATION
                         Every DURATION, check the config files (the agent file, its includes,
                         the secret files it names) and reload when their content changed,
                         e.g. 30s. Default 0: off (reload on SIGHUP or POST /-/reload only).
  --web.listen-address=ADDR
                         Address for /metrics, the status page and the API (default: the
                         config's `listen:`, else ":9470"). IPv4 or a hostname.
  --web.config.file=FILE TLS (tls_server_config) and basic auth (basic_auth_users) for the
                         endpoint, in Prometheus' web config format (default: none: plain
                         HTTP, no auth).
  --storage.path=DIR     Where the history of state transitions is kept, in
                         DIR/history.sqlite (default ./data). A restart restores each target's
                         "down since". A directory that cannot be used means no history (an
                         error is logged); a corrupt file is moved aside and a fresh one started.
  --storage.retention=DURATION
                         How long transitions are kept, e.g. 14d or 36h (default 14d).
)";

const char* const kRunExit = R"(
Exit codes:
  0  clean stop on SIGTERM or SIGINT
  1  cannot start: no or an invalid config, cannot listen, an unusable web config
  2  usage error: unknown command or flag, a flag without or with a bad value
)";

const char* const kOnceText = R"(usage: envprobe once --config.file=FILE [--format=table|json]

Probe every target of the config's environment once, print one row per target (and address):
env, service, check, hostname, visibility, address, result, duration, reason. For deploy
pipelines.

Flags:
  --config.file=FILE     The agent config file, e.g. config/at.yaml (required).
  --format=FORMAT        table | json (default table).
)";

const char* const kOnceExit = R"(
Exit codes:
  0  every target passed
  1  at least one target failed
  2  usage error, no or an invalid config, or a config whose environment expands to zero
     targets (nothing would be checked)
)";

const char* const kCheckConfigText = R"(usage: envprobe check-config FILE [--list-targets]

Validate an agent file (or a catalog on its own) with its includes and secret files, audit the
catalog's coverage and print the service x environment matrix. Every error and warning is
printed with file:line:column; warnings (e.g. an environment with zero targets) do not fail.

Flags:
  FILE, --config.file=FILE
                         The file to check (required).
  --list-targets         Also print every target of the file's environment (default off).
)";

const char* const kCheckConfigExit = R"(
Exit codes:
  0  valid (warnings allowed)
  1  invalid: errors, every one printed
  2  usage error: no file given, unknown flag
)";

const char* const kDemoText = R"(usage: envprobe demo [--demo.duration=DURATION] [--web.listen-address=ADDR]

Start a built-in site on loopback that answers only its internal hostname, and probe it under
both of its names: the public one fails with 400 "Invalid Hostname". No network needed.

Flags:
  --demo.duration=DURATION
                         Stop after this long, e.g. 20s (default: run until SIGINT/SIGTERM).
  --web.listen-address=ADDR
                         Address for /metrics and the status page (default: a free port on
                         127.0.0.1).
)";

const char* const kDemoExit = R"(
Exit codes:
  0  stopped after --demo.duration, or on SIGINT/SIGTERM
  1  cannot start
  2  usage error, e.g. a bad --demo.duration
)";

const char* const kControlFlags = R"(  --agent=URL            The agent's base URL, http:// or https://, e.g.
                         https://envprobe-at.example.com:9470 (required). Redirects are not
                         followed; each request times out after 10s.
  --ca-file=FILE         A PEM file of CA certificates that sign the agent's certificate
                         (default: the system's CAs).
)";

const char* const kDeployText = R"(usage: envprobe deploy --agent=URL --token-file=FILE --service=NAME --version=VERSION
                      [--converge-within=DURATION] [--wait=DURATION] [--poll-interval=DURATION]

Announce to the agent that VERSION of a service is being deployed (POST /api/v1/deployments):
from then on the agent expects every hostname of the service to serve it. With --wait, poll
the agent until every hostname serves VERSION, then print one row per target (HOSTNAME
VISIBILITY CHECK ADDRESS SERVES MATCHES) and whether the deployment converged; a hostname not
probed since the announcement shows "not probed yet".

Flags:
)";

const char* const kDeployFlags = R"(  --token-file=FILE      A file holding the bearer token for the agent's API (required;
                         surrounding whitespace is ignored).
  --service=NAME         The service, as the catalog names it (required).
  --version=VERSION      The version being deployed, as the service reports it (required).
  --converge-within=DURATION
                         Tell the agent how long the rollout may take before a hostname that
                         still serves another version counts as failing, e.g. 10m (default:
                         the agent's).
  --wait=DURATION        Wait up to DURATION for every hostname to serve VERSION, e.g. 10m
                         (default: do not wait: announce and exit).
  --poll-interval=DURATION
                         With --wait: ask the agent this often (default 2s).
)";

const char* const kDeployExit = R"(
Exit codes:
  0  announced (without --wait), or converged: every hostname serves VERSION
  1  --wait ran out before every hostname served VERSION (or the service was announced again
     with another version meanwhile); the table says which hostname serves what
  2  usage error, an unreadable or empty token file, the agent unreachable, an HTTP error from
     the agent (its message is printed), an answer that is not the API's JSON; while waiting,
     an unreachable agent or a 5xx answer is asked again until --wait runs out
)";

const char* const kGateText = R"(usage: envprobe gate --agent=URL --for=DURATION [--service=NAME]
                    [--visibility=public|internal] [--allow-partial] [--token-file=FILE]

Ask the agent whether every matching target was green for the last DURATION
(GET /api/v1/gate), for a promotion gate in a CI/CD pipeline: prints "PASS: N targets green
for DURATION", or "FAIL: F of N targets ..." and a table of the failing ones (HOSTNAME
VISIBILITY CHECK FAILED-FOR REASON DETAIL). A target whose history does not cover the window
shows "insufficient history" and fails the gate unless --allow-partial is given.

Flags:
)";

const char* const kGateFlags = R"(  --for=DURATION         The window to judge, e.g. 24h (required).
  --service=NAME         Only the targets of this service (default: every service).
  --visibility=VISIBILITY
                         public | internal: only those hostnames (default: both).
  --allow-partial        Let targets with too little history for the window pass (default off).
  --token-file=FILE      A file holding the bearer token, when the agent's API wants one
                         (default: no Authorization header).
)";

const char* const kGateExit = R"(
Exit codes:
  0  pass: every matching target was green for the window
  1  fail: at least one target was not; the table names each one and why
  2  usage error, no target matches the filters, the agent unreachable, an HTTP error from
     the agent (its message is printed), an answer that is not the API's JSON
)";

const char* const kVersionText = R"(usage: envprobe version (or envprobe --version)

Print the version.

Exit codes:
  0  always
)";

const char* const kHelpText = R"(usage: envprobe help [COMMAND] (or envprobe [COMMAND] --help, -h)

Without COMMAND, list the commands and the flags; with it, that command's usage, flags and
exit codes.

Exit codes:
  0  help printed
  2  unknown command
)";

}  // namespace

std::string usageText() {
  return R"(usage: envprobe [<flags>] <command> [<args>]

Synthetic probes for every hostname of every service, per environment.

Commands:
  check-config FILE    Validate a config and its catalog; print the coverage matrix.
                       --list-targets also prints every target the agent would probe.
  run                  Run the agent: probe on schedule, serve /metrics and the status page.
                       SIGHUP or POST /-/reload reloads the config live.
  once                 Probe every target once, print one row per target, exit 1 if any failed.
                       --format=table|json
  demo                 Start a built-in site on loopback and probe it (no network needed).
                       --demo.duration=20s stops it after that long.
  deploy               Announce a service's new version to an agent; --wait=10m waits until
                       every hostname serves it (exit 1 if not).
  gate                 Ask an agent whether its targets were green for --for=24h (exit 0
                       pass, 1 fail).
  version              Show the version.
  help [COMMAND]       Show this help, or a command's.

Run 'envprobe COMMAND --help' (or 'envprobe help COMMAND') for a command's flags, their
defaults and its exit codes.

Flags:
  -h, --help                 Show this help (after a command: that command's help).
      --version              Show the version.
      --config.file=FILE     The agent config file (e.g. config/at.yaml).
      --config.auto-reload-interval=DURATION
                             run: reload when the config files changed, checked every
                             DURATION (default 0: off).
      --web.listen-address=ADDR
                             Address for /metrics and the status page (default ":9470").
      --web.config.file=FILE TLS and basic auth for the endpoint, in Prometheus' web config
                             format (tls_server_config, basic_auth_users: {user: bcrypt hash}).
      --storage.path=DIR     run: where the history of state transitions is kept
                             (default ./data).
      --storage.retention=DURATION
                             run: how long the history is kept (default 14d).
      --log.level=LEVEL      debug | info | warn | error (default info).
      --log.format=FORMAT    logfmt | json (default logfmt).

Exit code 2 is a usage error for every command: an unknown command or flag, a flag without or
with a bad value.
)";
}

std::optional<std::string> commandUsageText(const std::string& command) {
  if (command == "run") return std::string(kRunText) + kLogFlags + kRunExit;
  if (command == "once") return std::string(kOnceText) + kLogFlags + kOnceExit;
  if (command == "check-config") return std::string(kCheckConfigText) + kCheckConfigExit;
  if (command == "demo") return std::string(kDemoText) + kLogFlags + kDemoExit;
  if (command == "deploy")
    return std::string(kDeployText) + kControlFlags + kDeployFlags + kDeployExit;
  if (command == "gate") return std::string(kGateText) + kControlFlags + kGateFlags + kGateExit;
  if (command == "version") return std::string(kVersionText);
  if (command == "help") return std::string(kHelpText);
  return std::nullopt;
}

}  // namespace envprobe
