#!/usr/bin/env bash
#! Starts and stops a private virtlogd + libvirtd (monolithic daemon, QEMU driver) for
#! Vireo's end-to-end tests, without systemd. Must run as root.
#
# Usage: tests/testbed/libvirtd.sh start|stop|kill|status DIR
#   start   start virtlogd and libvirtd (each only if not already running from DIR),
#           wait until `virsh -c qemu:///system version` answers, print the time taken.
#   stop    destroy + undefine test domains (names starting with $VIREO_TEST_PREFIX,
#           default "vireo-test"), stop both daemons, kill stray QEMU of test domains,
#           remove DIR's pid files.
#   kill    SIGKILL libvirtd only (virtlogd and QEMU keep running), as a crash would.
#   status  exit 0 if our libvirtd is alive.
#
# Socket choice: the daemon serves the REAL qemu:///system paths (/run/libvirt/
# libvirt-sock, virtlogd-sock), so Vireo and virsh use the plain URI qemu:///system.
# A root libvirtd cannot move its QEMU state (/etc/libvirt/qemu, /run/libvirt/qemu,
# /var/lib/libvirt/qemu) anyway, so private sockets would not buy isolation. To stay
# safe, `start` refuses when some other daemon (not started from DIR) answers there.
# Only the daemon config and pid files are private (in DIR):
#   DIR/libvirtd.conf  unix_sock_group="libvirt", rw perms 0770, auth_unix_rw="none"
#   DIR/libvirtd.pid, DIR/virtlogd.pid, DIR/libvirtd.log, DIR/virtlogd.log
# A user in group "libvirt" (see as-user.sh) can then use qemu:///system too.
#
# KVM: libvirtd runs in its own mount namespace where /dev/kvm is covered by an empty
# mode-000 file and /etc/libvirt/qemu.conf by DIR/qemu.conf (the system file plus
# namespaces = [], as libvirt's per-domain /dev cannot take that bind mount along),
# so it offers TCG only (<domain type='qemu'>). Why: on the test machines
# /dev/kvm is a nested KVM that cannot run a Linux guest, and it is root-only (no udev),
# so libvirt probed QEMU *with* KVM but then found KVM unusable for libvirt-qemu and
# threw its capability cache away at every start (12 s instead of 0.15 s). Set
# VIREO_TEST_KVM=1 to leave /dev/kvm visible.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|kill|status DIR" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "libvirtd.sh: must run as root (the qemu:///system daemon)" >&2
  exit 1
fi
uri=qemu:///system
prefix=${VIREO_TEST_PREFIX:-vireo-test}
mkdir -p "$dir"
dir=$(readlink -f "$dir")

# running PID NAME: PID is a live (not zombie) NAME process. A killed daemon stays a
# zombie until whoever adopted it reaps it, which may take a while in containers.
running() {
  [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && live "$1"
}
# live PID: PID is a process that has not exited, whatever it runs now.
live() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
alive() { # alive PIDFILE NAME: the pid in PIDFILE is a running NAME
  running "$(cat "$1" 2>/dev/null)" "$2"
}

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }

# Stop PIDFILE's NAME process: SIGTERM, wait, SIGKILL.
terminate() {
  local pidfile=$1 name=$2 pid i
  alive "$pidfile" "$name" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    running "$pid" "$name" || break
    sleep 0.1
  done
  if running "$pid" "$name"; then
    echo "libvirtd.sh: $name ($pid) ignored SIGTERM; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

start() {
  local t0 pid other
  t0=$(now)
  # Someone else's daemon on the same sockets would mix our tests with real VMs.
  # (Daemons in private mount namespaces with their own /run do not count.)
  if ! alive "$dir/libvirtd.pid" libvirtd &&
    timeout 10 virsh -q -c "$uri" version >/dev/null 2>&1; then
    echo "libvirtd.sh: another daemon already serves $uri on this machine;" \
      "refusing to start a test daemon next to it" >&2
    exit 1
  fi
  getent group libvirt >/dev/null || groupadd --system libvirt

  cat >"$dir/libvirtd.conf" <<'EOF'
# Vireo test daemon (tests/testbed/libvirtd.sh): local unix sockets only.
listen_tls = 0
listen_tcp = 0
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
EOF
  cat >"$dir/virtlogd.conf" <<'EOF'
# Vireo test virtlogd (tests/testbed/libvirtd.sh)
log_outputs = "3:stderr"
EOF

  if ! alive "$dir/virtlogd.pid" virtlogd; then
    setsid virtlogd -f "$dir/virtlogd.conf" -p "$dir/virtlogd.pid" \
      </dev/null >>"$dir/virtlogd.log" 2>&1 &
    echo $! >"$dir/virtlogd.pid"
  fi
  if ! alive "$dir/libvirtd.pid" libvirtd; then
    # Hide /dev/kvm from the daemon (see the header) in a private mount namespace,
    # where our qemu.conf also replaces the system one.
    local hide=""
    if [ -e /dev/kvm ] && [ "${VIREO_TEST_KVM:-0}" != 1 ]; then
      : >"$dir/no-kvm"
      chmod 000 "$dir/no-kvm"
      hide="mount --bind '$dir/no-kvm' /dev/kvm &&"
    fi
    { cat /etc/libvirt/qemu.conf 2>/dev/null || true
      echo '# Vireo test daemon: no per-domain /dev namespace (it cannot carry the'
      echo '# bind mount that hides /dev/kvm, and tests need no such isolation).'
      echo 'namespaces = []'
    } >"$dir/qemu.conf"
    hide="mount --bind '$dir/qemu.conf' /etc/libvirt/qemu.conf && $hide"
    setsid unshare --mount --propagation slave sh -c "$hide exec libvirtd \
      -f '$dir/libvirtd.conf' -p '$dir/libvirtd.pid.daemon'" \
      </dev/null >>"$dir/libvirtd.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/libvirtd.pid"
  fi
  pid=$(cat "$dir/libvirtd.pid")
  local deadline=$((SECONDS + ${VIREO_LIBVIRTD_TIMEOUT:-90}))
  until virsh -q -c "$uri" version >/dev/null 2>&1; do
    # Not `alive ... libvirtd`: until the wrapper (setsid, unshare, sh, mount) has
    # exec'd libvirtd, the process has another name; on a busy machine that takes a
    # while and must not read as a failed start.
    if ! live "$pid"; then
      echo "libvirtd.sh: libvirtd exited during start-up; log:" >&2
      tail -n 30 "$dir/libvirtd.log" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "libvirtd.sh: libvirtd (pid $pid) did not answer within" \
        "${VIREO_LIBVIRTD_TIMEOUT:-90} s; killed it; log:" >&2
      # Here, not by `stop`: that knows the process only once it is named libvirtd.
      kill -KILL "$pid" 2>/dev/null || true
      tail -n 30 "$dir/libvirtd.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "libvirtd.sh: libvirtd (pid $pid) answers on $uri after $(elapsed "$t0") s"
}

# Destroy and undefine every domain whose name starts with the test prefix, on our
# own daemon only (never on someone else's that happens to answer).
clean_domains() {
  local name
  alive "$dir/libvirtd.pid" libvirtd || return 0
  virsh -q -c "$uri" version >/dev/null 2>&1 || return 0
  for name in $(virsh -q -c "$uri" list --all --name 2>/dev/null); do
    case "$name" in "$prefix"*) ;; *) continue ;; esac
    virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1 || true
    virsh -q -c "$uri" undefine --nvram --snapshots-metadata --checkpoints-metadata \
      "$name" >/dev/null 2>&1 || virsh -q -c "$uri" undefine "$name" >/dev/null 2>&1 || true
  done
}

# QEMU processes of test domains that outlived their daemon (their pid files remain).
kill_stray_qemu() {
  local pidfile pid
  for pidfile in /run/libvirt/qemu/"$prefix"*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -q qemu "/proc/$pid/comm" 2>/dev/null; then
      echo "libvirtd.sh: killing stray QEMU $pid ($(basename "$pidfile" .pid))" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

case "$cmd" in
  start) start ;;
  stop)
    clean_domains
    terminate "$dir/libvirtd.pid" libvirtd
    terminate "$dir/virtlogd.pid" virtlogd
    kill_stray_qemu
    # Definitions of test domains left by a daemon that could not undefine them.
    rm -f /etc/libvirt/qemu/"$prefix"*.xml /run/libvirt/qemu/"$prefix"*.xml
    rm -f "$dir/libvirtd.pid.daemon"
    echo "libvirtd.sh: stopped"
    ;;
  kill)
    if alive "$dir/libvirtd.pid" libvirtd; then
      kill -KILL "$(cat "$dir/libvirtd.pid")"
      echo "libvirtd.sh: libvirtd killed"
    fi
    ;;
  status) alive "$dir/libvirtd.pid" libvirtd ;;
  *)
    echo "usage: $0 start|stop|kill|status DIR" >&2
    exit 2
    ;;
esac
