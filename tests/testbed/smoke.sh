#!/usr/bin/env bash
#! Proves the test bed with virsh alone and prints its timings: builds the guest, starts
#! the private daemon, boots the guest (kernel and ISO) under TCG, checks the serial
#! ready line, VGA picture, stats, ACPI reboot and shutdown, qemu:///embed and
#! qemu:///session. Leaves nothing running. Run as root from the repository root.
#
# Usage: tests/testbed/smoke.sh [GUESTDIR]     (default: ${CARGO_TARGET_DIR:-target}/guest)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
guest=${1:-${CARGO_TARGET_DIR:-target}/guest}
uri=qemu:///system
work=$(mktemp -d /tmp/vireo-smoke.XXXXXX)
chmod 755 "$work"
daemon_dir=$work/daemon
V() { virsh -q -c "$uri" "$@"; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
declare -a report=()

embed_root=$work/embed
cleanup() {
  set +e
  # Embedded-driver QEMUs outlive the virsh process that started them.
  for f in "$embed_root"/run/qemu/*.pid; do
    [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
  done
  VIREO_TEST_PREFIX=vireo-smoke "$here/libvirtd.sh" stop "$daemon_dir" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# wait_line FILE TEXT COUNT SECONDS: until FILE holds COUNT lines equal to TEXT
wait_line() {
  local deadline=$((SECONDS + $4))
  until [ "$({ tr -d '\r' <"$1"; } 2>/dev/null | grep -cx "$2")" -ge "$3" ]; do
    [ $SECONDS -lt $deadline ] || fail "no '$2' (x$3) in $1 within $4 s"
    sleep 0.05
  done
}
wait_state() { # wait_state DOM STATE SECONDS
  local deadline=$((SECONDS + $3))
  until [ "$(V domstate "$1" 2>/dev/null)" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 not '$2' within $3 s"
    sleep 0.1
  done
}
pixel() { convert "$1" -format "%[pixel:p{$2}]" info:; }

t=$(now)
"$here/../guest/build.sh" "$guest"
guest=$(readlink -f "$guest")
report+=("guest build (or cache check): $(since "$t") s")

t=$(now)
VIREO_TEST_PREFIX=vireo-smoke "$here/libvirtd.sh" start "$daemon_dir"
report+=("daemon start: $(since "$t") s")

# --- kernel boot on qemu:///system --------------------------------------------------
dom=vireo-smoke-kernel
qemu-img create -q -f qcow2 -b "$guest/disk.qcow2" -F qcow2 "$work/vda.qcow2"
"$here/domain-xml.sh" $dom "$guest" kernel "$work/vda.qcow2" "$work/kernel.log" \
  >"$work/kernel.xml"
V define "$work/kernel.xml" >/dev/null
t=$(now)
V start $dom >/dev/null
wait_line "$work/kernel.log" VIREO-GUEST-READY 1 60
report+=("boot to ready line (virsh start -> VIREO-GUEST-READY): $(since "$t") s")
grep -q 'VIREO-GUEST-DISK vda VIREO-DATA-DISK' "$work/kernel.log" || fail "data disk not read"

cpu=$(V domstats $dom --cpu-total | awk -F= '/cpu.time=/ {print $2}')
rd=$(V domstats $dom --block | awk -F= '/block.0.rd.bytes=/ {print $2}')
[ "${cpu:-0}" -gt 0 ] && [ "${rd:-0}" -gt 0 ] || fail "stats cpu.time=$cpu rd.bytes=$rd"
report+=("stats: cpu.time=$cpu ns, vda rd.bytes=$rd")

V screenshot $dom "$work/screen.img" >/dev/null
[ "$(identify -format %wx%h "$work/screen.img")" = 720x400 ] || fail "VGA size"
for check in "5,5 srgb(0,0,168)" "100,40 srgb(168,0,0)" "100,100 srgb(0,168,0)" \
  "100,170 srgb(168,168,168)" "100,250 srgb(0,0,168)" "600,380 srgb(0,0,0)"; do
  got=$(pixel "$work/screen.img" "${check% *}")
  [ "$got" = "${check#* }" ] || fail "VGA pixel ${check% *}: $got, want ${check#* }"
done
report+=("VGA picture: bands as documented in tests/guest/build.sh")

t=$(now)
V reboot $dom >/dev/null
wait_line "$work/kernel.log" VIREO-GUEST-READY 2 60
report+=("ACPI reboot to ready line: $(since "$t") s")

t=$(now)
V shutdown $dom >/dev/null
wait_state $dom "shut off" 60
grep -q VIREO-GUEST-POWEROFF "$work/kernel.log" || fail "no ACPI power-off line"
report+=("ACPI shutdown to shut off: $(since "$t") s")
V undefine $dom >/dev/null

# --- ISO boot (isolinux from a CD-ROM) ------------------------------------------------
dom=vireo-smoke-iso
"$here/domain-xml.sh" $dom "$guest" iso "" "$work/iso.log" >"$work/iso.xml"
V define "$work/iso.xml" >/dev/null
t=$(now)
V start $dom >/dev/null
wait_line "$work/iso.log" VIREO-GUEST-READY 1 90
grep -q ISOLINUX "$work/iso.log" || fail "ISO did not boot through isolinux"
report+=("ISO boot to ready line: $(since "$t") s")
V destroy $dom >/dev/null
V undefine $dom >/dev/null

# --- qemu:///embed (no daemon; QEMU as root, see tests/kit/testbed.rs) --------------
dom=vireo-smoke-embed
mkdir -p "$embed_root/etc"
printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nstdio_handler = "file"\n' >"$embed_root/etc/qemu.conf"
"$here/domain-xml.sh" $dom "$guest" kernel "" "$work/embed.log" >"$work/embed.xml"
# The embedded driver lives in the virsh process (QEMU dies with it), so one virsh
# shell, fed through a pipe, does the whole round.
t=$(now)
coproc EMBED { virsh -c "qemu:///embed?root=$embed_root" >"$work/embed.out" 2>&1; }
echo "define $work/embed.xml" >&"${EMBED[1]}"
echo "start $dom" >&"${EMBED[1]}"
wait_line "$work/embed.log" VIREO-GUEST-READY 1 90
report+=("qemu:///embed open+define+start to ready line: $(since "$t") s")
printf 'destroy %s\nundefine %s\nquit\n' $dom $dom >&"${EMBED[1]}"
wait "$EMBED_PID" || true
grep -q "Domain '$dom' destroyed" "$work/embed.out" || fail "embed: $(cat "$work/embed.out")"

# --- qemu:///session as the unprivileged test user ------------------------------------
dom=vireo-smoke-session
mkdir -m 1777 "$work/session"
"$here/domain-xml.sh" $dom "$guest" kernel "" "$work/session/serial.log" \
  >"$work/session/dom.xml"
chmod 644 "$work/session/dom.xml"
t=$(now)
"$here/as-user.sh" sh -c "
  set -e
  virsh -q -c qemu:///session define $work/session/dom.xml >/dev/null
  virsh -q -c qemu:///session start $dom >/dev/null
  i=0
  until grep -q '^VIREO-GUEST-READY' $work/session/serial.log 2>/dev/null; do
    i=\$((i + 1)); [ \$i -lt 900 ] || { echo 'no ready line' >&2; exit 1; }; sleep 0.1
  done
  virsh -q -c qemu:///session destroy $dom >/dev/null
  virsh -q -c qemu:///session undefine $dom >/dev/null
" || {
  "$here/as-user.sh" sh -c "virsh -q -c qemu:///session destroy $dom
    virsh -q -c qemu:///session undefine $dom" >/dev/null 2>&1
  fail "qemu:///session as vireo-test"
}
report+=("qemu:///session (vireo-test) daemon autostart+define+start to ready: $(since "$t") s")

echo "smoke: OK"
printf '  %s\n' "${report[@]}"
