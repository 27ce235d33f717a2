#!/usr/bin/env bash
#! A second private libvirt daemon (virtlogd + libvirtd with the QEMU driver) beside the
#! test bed's own, for the soak runs that need two hosts with real guests. Must run as
#! root (inside /work/rooms/isolate.sh on a shared machine, like the test bed).
#
# Usage: tools/soak/second-daemon.sh start|stop|kill|status|uri DIR
#   start   start it (tests/testbed/libvirtd.sh inside its own mount namespace) and
#           wait until it answers
#   stop    destroy + undefine its vireo-test* domains, stop it, end the namespace
#   kill    SIGKILL its libvirtd (QEMUs and virtlogd live on), as a crash would
#   status  exit 0 if its libvirtd is alive
#   uri     print the URI that reaches it from outside
#
# How: a holder process (`sleep infinity`) keeps a mount namespace in which libvirt's
# state directories (/run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt,
# /var/cache/libvirt) are DIR/run, DIR/lib, DIR/etc, DIR/log and DIR/cache. The test
# bed's libvirtd.sh runs in it (entered with nsenter), so this daemon's sockets, QEMU
# pid files and domain definitions never meet the first daemon's. Its socket is
# DIR/run/libvirt-sock, which the rest of the machine reaches with
# `qemu:///system?socket=DIR/run/libvirt-sock`.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|kill|status|uri DIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
dir=$(readlink -f "$dir")
uri="qemu:///system?socket=$dir/run/libvirt-sock"

holder() { cat "$dir/holder.pid" 2>/dev/null || true; }
holder_alive() {
  local pid
  pid=$(holder)
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ]
}
in_ns() { nsenter --mount --target "$(holder)" -- "$@"; }

make_namespace() {
  holder_alive && return 0
  mkdir -p "$dir/run" "$dir/lib" "$dir/etc" "$dir/log" "$dir/cache" "$dir/state"
  if [ ! -e "$dir/etc/.copied" ]; then
    # The system's libvirt configuration, without its domains and networks.
    cp -a /etc/libvirt/. "$dir/etc/"
    rm -f "$dir/etc/qemu/"*.xml "$dir/etc/qemu/autostart/"*.xml
    touch "$dir/etc/.copied"
  fi
  local binds="" d
  for d in run:/run/libvirt lib:/var/lib/libvirt etc:/etc/libvirt log:/var/log/libvirt \
    cache:/var/cache/libvirt; do
    mkdir -p "${d#*:}"
    binds="$binds mount --bind '$dir/${d%%:*}' '${d#*:}' &&"
  done
  setsid unshare --mount --propagation private sh -c "$binds exec sleep infinity" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/holder.pid"
  # Until the binds are made, the holder is still sh.
  local i
  for i in $(seq 100); do
    holder_alive && return 0
    sleep 0.05
  done
  echo "second-daemon.sh: the namespace holder did not start" >&2
  exit 1
}

case "$cmd" in
  start)
    make_namespace
    in_ns "$repo/tests/testbed/libvirtd.sh" start "$dir/state"
    ;;
  stop)
    if holder_alive; then
      in_ns "$repo/tests/testbed/libvirtd.sh" stop "$dir/state" || true
      kill "$(holder)" 2>/dev/null || true
    fi
    rm -f "$dir/holder.pid"
    ;;
  kill) holder_alive && in_ns "$repo/tests/testbed/libvirtd.sh" kill "$dir/state" ;;
  status) holder_alive && in_ns "$repo/tests/testbed/libvirtd.sh" status "$dir/state" ;;
  uri) echo "$uri" ;;
  *)
    echo "usage: $0 start|stop|kill|status|uri DIR" >&2
    exit 2
    ;;
esac
