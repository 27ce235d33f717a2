#!/usr/bin/env bash
#! Checks the README's run command as a newcomer meets it: runs `make run` (which
#! installs what is missing, builds the release binary and starts Vireo) until Vireo
#! logs its ready line (`connection <URI> ready: <N> domains`), then quits it with
#! Ctrl+Q as a person would and expects `make run` to end with status 0. Fails, with
#! the log, when make ends first, when no ready line comes within the bound (build
#! included; VIREO_RUN_CHECK_SECS, default 1800 s), or when Vireo does not quit.
#! Needs a display and a session bus: tools/run-tests.sh runs it under xvfb-run and
#! dbus-run-session.
set -euo pipefail
cd "$(dirname "$0")/.."

bound=${VIREO_RUN_CHECK_SECS:-1800}
log=$(mktemp "${TMPDIR:-/tmp}/vireo-make-run.XXXXXX")
ready='connection [^ ]+ ready: [0-9]+ domains'

fail() {
  echo "check-run-command: $*" >&2
  echo "---- make run's output ----" >&2
  cat "$log" >&2
  exit 1
}

# make and what it starts get a process group of their own, so that a failure stops
# all of it.
setsid make run >"$log" 2>&1 &
pid=$!
trap 'kill -TERM -- -$pid 2>/dev/null || true' EXIT
started=$(date +%s)
until grep -qE "$ready" "$log"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=0
    wait "$pid" || status=$?
    fail "make run ended (status $status) before Vireo was ready"
  fi
  (( $(date +%s) - started < bound )) || fail "no ready line after $bound s"
  sleep 1
done
echo "make run: $(grep -oE "$ready" "$log" | head -1) after $(( $(date +%s) - started )) s"

# Quit as a person does: Ctrl+Q in Vireo's window.
window=$(timeout 30 xdotool search --sync --onlyvisible --class vireo | head -1) ||
  fail "Vireo's window is not on the display"
xdotool windowfocus --sync "$window" key ctrl+q
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "Vireo did not quit within 30 s of Ctrl+Q"
status=0
wait "$pid" || status=$?
trap - EXIT
[ "$status" -eq 0 ] || fail "make run ended with status $status after Ctrl+Q"
echo "make run: Vireo quit cleanly"
rm -f "$log"
