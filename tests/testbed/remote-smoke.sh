#!/usr/bin/env bash
#! Proves the remote test host (remote-host.sh) with the tools alone and prints its
#! timings: virsh over qemu+ssh with the generated key and known_hosts, the guest
#! defined and booted on the remote host, its serial console through `virsh console`,
#! its VGA picture fetched through `ssh -W 127.0.0.1:PORT` (rfb-capture.py), the
#! network cut under an open connection (libvirt's keepalive notices) and restored.
#! Leaves nothing behind. Run as root from the repository root (inside isolate.sh on a
#! shared machine).
#
# Usage: tests/testbed/remote-smoke.sh [GUESTDIR]   (default: ${CARGO_TARGET_DIR:-target}/guest)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
guest=${1:-${CARGO_TARGET_DIR:-target}/guest}
rh=$here/remote-host.sh
host=smoke
dom=vireo-smoke-remote
work=$(mktemp -d /tmp/vireo-remote-smoke.XXXXXX)
chmod 755 "$work"
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
fail() { echo "remote-smoke: FAIL: $*" >&2; exit 1; }
declare -a report=()

cleanup() {
  set +e
  [ -n "${keepalive_pid:-}" ] && kill "$keepalive_pid" 2>/dev/null
  "$rh" down "$host" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

wait_line() { # wait_line FILE TEXT SECONDS
  local deadline=$((SECONDS + $3))
  until tr -d '\r' <"$1" 2>/dev/null | grep -qx "$2"; do
    [ $SECONDS -lt $deadline ] || fail "no '$2' in $1 within $3 s"
    sleep 0.05
  done
}
pixel() { convert "$1" -format "%[pixel:p{$2}]" info:; }

"$here/../guest/build.sh" "$guest" >/dev/null
guest=$(readlink -f "$guest")

t=$(now)
"$rh" up "$host"
report+=("remote host up (namespaces, veth, sshd, virtlogd, libvirtd answering): $(since "$t") s")
env=$("$rh" status "$host") || fail "the host is not up"
eval "$env"
V() { virsh -q -c "$URI" "$@"; }

t=$(now)
[ "$(V hostname)" = "$HOSTNAME" ] || fail "virsh over ssh reached $(V hostname), not $HOSTNAME"
report+=("virsh -c qemu+ssh://root@$ADDR/system hostname (connect + call): $(since "$t") s")

# The guest's files are at the same paths inside the host; its serial log is written
# by the host's virtlogd into our work dir.
qemu-img create -q -f qcow2 -b "$guest/disk.qcow2" -F qcow2 "$work/vda.qcow2"
"$here/domain-xml.sh" $dom "$guest" kernel "$work/vda.qcow2" "$work/serial.log" >"$work/dom.xml"
V define "$work/dom.xml" >/dev/null
t=$(now)
V start $dom >/dev/null
wait_line "$work/serial.log" VIREO-GUEST-READY 90
report+=("remote boot (virsh start over ssh -> VIREO-GUEST-READY): $(since "$t") s")
"$rh" exec "$host" virsh -q -c qemu:///system list --name | grep -qx $dom ||
  fail "the domain is not on the remote host's own daemon"

tag=vireo-smoke-$RANDOM$RANDOM
out=$("$here/pty-echo.py" "$tag" 30 virsh -c "$URI" console $dom --force) ||
  fail "serial console through ssh"
report+=("virsh console over ssh answers echo: $out")

display=$(V domdisplay $dom)
case "$display" in vnc://127.0.0.1:*) ;; *) fail "domdisplay: $display" ;; esac
port=$((5900 + ${display##*:}))
out=$("$here/rfb-capture.py" "$work/screen.ppm" "$SSH" -i "$KEY" -o BatchMode=yes "root@$ADDR" \
  -W "127.0.0.1:$port") || fail "VNC through ssh -W"
[ "$(identify -format %wx%h "$work/screen.ppm")" = 720x400 ] || fail "VGA size"
for check in "5,5 srgb(0,0,168)" "100,40 srgb(168,0,0)" "100,100 srgb(0,168,0)" \
  "100,170 srgb(168,168,168)" "100,250 srgb(0,0,168)" "600,380 srgb(0,0,0)"; do
  got=$(pixel "$work/screen.ppm" "${check% *}")
  [ "$got" = "${check#* }" ] || fail "VGA pixel ${check% *}: $got, want ${check#* }"
done
report+=("$display through ssh -W: $out; VGA bands as documented")

# The network goes away under an open connection: libvirt's keepalive (virsh -k 1 -K 3:
# a probe every second, dead after 3 unanswered) closes it.
mkfifo "$work/virsh.in"
virsh -k 1 -K 3 -c "$URI" <"$work/virsh.in" >"$work/virsh.out" 2>&1 &
keepalive_pid=$!
exec 7>"$work/virsh.in"
echo "hostname" >&7
deadline=$((SECONDS + 20))
until grep -q "$HOSTNAME" "$work/virsh.out"; do
  [ $SECONDS -lt $deadline ] || fail "interactive virsh: $(cat "$work/virsh.out")"
  sleep 0.05
done
t=$(now)
"$rh" net "$host" down
deadline=$((SECONDS + 30))
until grep -q "keepalive" "$work/virsh.out"; do
  [ $SECONDS -lt $deadline ] || fail "no keepalive timeout: $(cat "$work/virsh.out")"
  sleep 0.05
done
report+=("network cut -> virsh -k 1 -K 3 says 'Disconnected ... $(grep -m1 -o 'due to keepalive.*' \
  "$work/virsh.out")': $(since "$t") s")
exec 7>&-
wait "$keepalive_pid" 2>/dev/null || true
keepalive_pid=
t=$(now)
"$rh" net "$host" up
until V hostname >/dev/null 2>&1; do
  [ "$(since "$t" | cut -d. -f1)" -lt 30 ] || fail "no connection after the network returned"
  sleep 0.1
done
report+=("network restored -> a new qemu+ssh connection answers: $(since "$t") s")

V destroy $dom >/dev/null
V undefine $dom >/dev/null
t=$(now)
"$rh" down "$host" >/dev/null
report+=("remote host down: $(since "$t") s")
! pgrep -f "remote-host.sh _init .*/$host " >/dev/null || fail "processes of the host remain"

echo "remote-smoke: OK"
printf '  %s\n' "${report[@]}"
