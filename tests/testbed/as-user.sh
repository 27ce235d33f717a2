#!/usr/bin/env bash
#! Runs a command as the unprivileged test user `vireo-test` (created on first use, in
#! group libvirt), for Vireo's qemu:///session checks; afterwards stops the per-user
#! libvirtd/virtlogd that qemu:///session auto-started, and that user's test QEMUs.
#
# Usage: tests/testbed/as-user.sh CMD [ARGS...]      (as root)
#   The command runs with a clean environment: HOME=/home/vireo-test, USER, LOGNAME,
#   PATH, LANG=C.UTF-8, XDG_RUNTIME_DIR=/run/user/<uid> (created, 0700) plus every
#   variable named in $VIREO_AS_USER_ENV (space-separated names) copied from ours.
#   Exit status: the command's. Set VIREO_KEEP_SESSION=1 to leave the daemon running.
set -euo pipefail

user=${VIREO_TEST_USER:-vireo-test}
if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "as-user.sh: must run as root (it creates and switches to $user)" >&2
  exit 1
fi

getent group libvirt >/dev/null || groupadd --system libvirt
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh --groups libvirt "$user"
elif ! id -nG "$user" | tr ' ' '\n' | grep -qx libvirt; then
  usermod -aG libvirt "$user"
fi
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)
runtime=/run/user/$uid
mkdir -p "$runtime"
chown "$user:" "$runtime"
chmod 700 "$runtime"

# Stop what qemu:///session left behind: its QEMUs first, then the daemons.
cleanup() {
  [ "${VIREO_KEEP_SESSION:-0}" = 1 ] && return 0
  local f pid
  for f in "$runtime"/libvirt/qemu/run/*.pid "$runtime"/libvirt/libvirtd.pid \
    "$runtime"/libvirt/virtqemud.pid "$runtime"/libvirt/virtlogd.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    # Only processes of the test user, never anything else that reused the pid.
    if [ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$uid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      # Gone, or a zombie waiting for its reaper: either way it is over.
      for _ in $(seq 1 50); do
        grep -q '^State:[[:space:]]*[ZX]' "/proc/$pid/status" 2>/dev/null && break
        [ -d "/proc/$pid" ] || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

envs=(HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin
  LANG=C.UTF-8 XDG_RUNTIME_DIR="$runtime")
for name in ${VIREO_AS_USER_ENV:-}; do
  [ -n "${!name+x}" ] && envs+=("$name=${!name}")
done
set +e
(cd / && runuser -u "$user" -- env -i "${envs[@]}" "$@")
rc=$?
set -e
exit $rc
