#!/usr/bin/env bash
#! Builds Vireo's tiny test guest from Debian packages, without installing a kernel on
#! the host: the Debian 12 kernel, a busybox initramfs, a small qcow2 data disk and a
#! bootable isolinux ISO. Cached: rebuilt only when this script changes.
#
# Usage: tests/guest/build.sh [OUTDIR]     (default OUTDIR: target/guest)
#
# Outputs in OUTDIR (all world-readable, so QEMU running as libvirt-qemu can open them):
#   vmlinuz           the Debian kernel (linux-image-<abi>-amd64)
#   initrd.gz         busybox initramfs (cpio newc, gzip)
#   disk.qcow2        64 MiB qcow2 data disk; its first bytes are "VIREO-DATA-DISK\n".
#                     Share it read-only (<readonly/>) or put a qcow2 overlay on top:
#                     QEMU's image locking refuses two writers.
#   vireo-guest.iso   isolinux ISO (volume id VIREO_GUEST) booting the same kernel+initrd
#   guest.env         KEY=VALUE lines describing the above (paths, cmdline, marker lines)
#   stamp             sha256 of this script; when it matches, nothing is rebuilt
#
# What the guest does (boot with cmdline "console=tty0 console=ttyS0"):
#   - /init mounts proc, sys, devtmpfs, devpts, then execs busybox init (/etc/inittab).
#   - rcS loads virtio_pci, virtio_blk, virtio_net, virtio_console, virtio_balloon,
#     virtio_rng, evdev, button, psmouse and ext4 (and their dependencies) from the
#     kernel package (psmouse: the PS/2 mouse, read through /dev/input/mice; ext4: a
#     writable file system a test can make on its own data disk overlay with busybox's
#     mke2fs and mount, e.g. to see a file come back after reverting a snapshot),
#     ata_piix and sr_mod (an IDE CD-ROM drive is /dev/sr0: a test reads the medium
#     in it, sees it change live and sees it ejected), starts busybox acpid (ACPI
#     power button -> poweroff), reads the data disk, then
#     prints, on ttyS0 (= /dev/console):
#         VIREO-GUEST-DISK vda VIREO-DATA-DISK      (only when a virtio disk is attached)
#         VIREO-GUEST-UPTIME <seconds since kernel start>
#         VIREO-GUEST-READY
#   - with a network card, busybox udhcpc asks for an address on eth0 in the background
#     (sending the host name "vireo-guest"; READY does not wait for it) and prints
#         VIREO-GUEST-IP <address>
#     on ttyS0 once it has one (a virtual network's lease; 10.0.2.15 on user-mode).
#   - a job-control shell runs on ttyS0 (prompt "vireo-guest# "), respawned on exit.
#   - ACPI power button: prints "VIREO-GUEST-POWEROFF" on ttyS0, then powers off.
#     Any shutdown or reboot through init prints "VIREO-GUEST-STOPPING" on ttyS0.
#   - The VGA text console (tty1, 80x25 cells of 9x16 px = 720x400 px, cursor hidden,
#     blanking off, kernel messages silenced) shows this fixed picture; VGA palette
#     values as QEMU renders them (6-bit DAC, 0x2a -> 168, 0x3f -> 255):
#         rows  1-2   (y   0- 31) blue (0,0,168); row 1 text "VIREO-GUEST-READY" in
#                                 bright white from column 1 (x 0-152)
#         rows  3-6   (y  32- 95) solid red    (168,0,0)
#         rows  7-10  (y  96-159) solid green  (0,168,0)
#         rows 11-14  (y 160-223) solid grey   (168,168,168)
#         rows 15-20  (y 224-319) blue         (0,0,168)
#         row  21     (y 320-335) blue, text "VIREO TEST GUEST - shell below" in yellow
#         rows 22-25  (y 336-399) black, a scroll region holding a shell on tty1
#     Only rows 22-25 change when someone types on the VGA console (VNC keyboard).
set -euo pipefail

script=$(readlink -f "$0")
outdir=${1:-target/guest}
mkdir -p "$outdir"
outdir=$(readlink -f "$outdir")
hash=$(sha256sum "$script" | cut -d' ' -f1)

products=(vmlinuz initrd.gz disk.qcow2 vireo-guest.iso guest.env)
up_to_date() {
  [ "$(cat "$outdir/stamp" 2>/dev/null)" = "$hash" ] || return 1
  local f
  for f in "${products[@]}"; do [ -s "$outdir/$f" ] || return 1; done
}

# Serialise concurrent builds (several test binaries may ask at once).
exec 9>"$outdir/.lock"
flock 9
if up_to_date; then
  echo "guest: up to date in $outdir"
  exit 0
fi

start=$(date +%s.%N)
work=$(mktemp -d "$outdir/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- Debian packages ---------------------------------------------------------------
# The "current Debian 12 kernel" is whatever linux-image-amd64 depends on right now.
resolve_kernel() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9].*-amd64$/ {print $2; exit}'
}
kpkg=$(resolve_kernel)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
  # A machine whose package lists were never fetched (or were cleaned).
  apt-get update -q >/dev/null
  kpkg=$(resolve_kernel)
fi
if [ -z "$kpkg" ]; then
  echo "guest: cannot resolve linux-image-amd64 (apt-get update needed?)" >&2
  exit 1
fi
kver=${kpkg#linux-image-}
# Keep downloaded .debs across rebuilds: the kernel alone is ~70 MB.
debs="$outdir/debs"
mkdir -p "$debs"
fetch() { # fetch PKG -> prints the .deb path
  local pkg=$1 f
  f=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    (cd "$debs" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
      (cd "$debs" && apt-get download "$pkg")
    f=$(ls "$debs/${pkg}"_*.deb | head -n1)
  fi
  echo "$f"
}
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)
# Old kernels left in the cache from an earlier ABI are dropped.
for f in "$debs"/linux-image-*.deb; do
  [ "$f" = "$kdeb" ] || rm -f "$f"
done

mkdir k b
dpkg-deb -x "$kdeb" k
dpkg-deb -x "$bdeb" b
moddir=k/lib/modules/$kver
# Debian's package ships no modules.dep (depmod runs in postinst): make it here.
depmod -b "$PWD/k" "$kver"

# --- initramfs tree ----------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc/init.d,var/log}
mkdir -p "$root"/etc/acpi/PWRF "$root/lib/modules/$kver"
cp b/bin/busybox "$root/bin/busybox"
# One symlink per applet, at the path busybox itself reports.
for applet in $("$root/bin/busybox" --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# Modules in load order (dependencies first), each copied once.
modules=(virtio_pci virtio_blk virtio_net virtio_console virtio_balloon virtio_rng evdev button
  psmouse ext4 ata_piix sr_mod)
: >"$root/etc/modules.order"
for m in "${modules[@]}"; do
  modprobe -d "$PWD/k" -S "$kver" --show-depends "$m" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue # "builtin NAME": nothing to load
    rel=${path#"$PWD/$moddir/"}
    # CPU-accelerated crypto (crc32c-intel for ext4) needs instructions TCG's CPU
    # lacks; the generic module it stands in for is loaded instead.
    case $rel in kernel/arch/x86/crypto/*) continue ;; esac
    grep -qxF "$rel" "$root/etc/modules.order" && continue
    mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
    cp "$path" "$root/lib/modules/$kver/$rel"
    echo "$rel" >>"$root/etc/modules.order"
  done
done

cat >"$root/init" <<'EOF'
#!/bin/sh
# Vireo test guest: mount the pseudo file systems, then hand over to busybox init.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
exec /sbin/init
EOF

cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
tty1::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sh -c 'echo VIREO-GUEST-STOPPING >/dev/ttyS0'
::restart:/sbin/init
EOF

cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='vireo-guest# '
EOF
echo vireo-guest >"$root/etc/hostname"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

# busybox acpid maps the power button (input KEY_POWER or /proc/acpi "PWRF") to the
# action "PWRF/00000080" and runs /etc/acpi/PWRF/00000080.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo VIREO-GUEST-POWEROFF >/dev/ttyS0
exec /sbin/poweroff
EOF

# udhcpc runs this with the lease in its environment ($ip, $subnet, $router).
cat >"$root/etc/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound | renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    # On a line of its own: the serial shell's prompt may be on the current one.
    printf '\nVIREO-GUEST-IP %s\n' "$ip" >/dev/ttyS0
    ;;
esac
EOF

cat >"$root/etc/init.d/rcS" <<EOF
#!/bin/sh
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
hostname -F /etc/hostname
while read -r m; do insmod /lib/modules/$kver/\$m || echo "VIREO-GUEST-ERROR insmod \$m"; done </etc/modules.order
EOF
cat >>"$root/etc/init.d/rcS" <<'EOF'
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
  udhcpc -i eth0 -s /etc/udhcpc.script -x hostname:vireo-guest -f -q -t 60 -T 2 \
    >/dev/null 2>&1 </dev/null &
fi
acpid -l /var/log/acpid.log
# Keep kernel messages off the VGA picture (and the serial shell) from now on.
dmesg -n 1

# A virtio disk: wait for its node, then read it (proves the disk and feeds disk stats).
if grep -qx 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
  i=0
  while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if [ -b /dev/vda ]; then
    marker=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -n1 | tr -cd 'A-Z-')
    dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null
    echo "VIREO-GUEST-DISK vda $marker"
  fi
fi

# The VGA picture (see tests/guest/build.sh for its exact layout).
row() { printf '\033[%d;1H\033[%sm%80s' "$1" "$2" ''; }
{
  printf '\033[9;0]\033[?25l\033[0;37;44m\033[2J'
  for r in 3 4 5 6; do row $r '0;41'; done
  for r in 7 8 9 10; do row $r '0;42'; done
  for r in 11 12 13 14; do row $r '0;47'; done
  printf '\033[1;1H\033[1;37;44mVIREO-GUEST-READY'
  printf '\033[21;1H\033[1;33;44mVIREO TEST GUEST - shell below'
  printf '\033[0m\033[22;25r\033[22;1H\033[J'
} >/dev/tty1

echo "VIREO-GUEST-UPTIME $(cut -d' ' -f1 /proc/uptime)"
echo VIREO-GUEST-READY
EOF
chmod 755 "$root/init" "$root/etc/init.d/rcS" "$root/etc/acpi/PWRF/00000080" \
  "$root/etc/udhcpc.script"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
  cpio --quiet -o -0 -H newc -R 0:0 | gzip -6 -n) >initrd.gz
cp "k/boot/vmlinuz-$kver" vmlinuz

# --- data disk ---------------------------------------------------------------------
truncate -s 64M disk.raw
printf 'VIREO-DATA-DISK\n' | dd of=disk.raw conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 disk.raw disk.qcow2
rm -f disk.raw

# --- ISO (isolinux, El Torito, also hybrid for USB/disk boot) ------------------------
isolinux_bin=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
isohdpfx=/usr/lib/ISOLINUX/isohdpfx.bin
if [ ! -f "$isolinux_bin" ] || [ ! -f "$ldlinux" ]; then
  # Not installed (install-deps.sh test installs them): take them from the packages.
  dpkg-deb -x "$(fetch isolinux)" s
  dpkg-deb -x "$(fetch syslinux-common)" s
  isolinux_bin=s$isolinux_bin ldlinux=s$ldlinux isohdpfx=s$isohdpfx
fi
mkdir -p iso/isolinux iso/boot
cp "$isolinux_bin" "$ldlinux" iso/isolinux/
cp vmlinuz initrd.gz iso/boot/
cat >iso/isolinux/isolinux.cfg <<'EOF'
SERIAL 0 115200
DEFAULT vireo
PROMPT 0
TIMEOUT 0
LABEL vireo
  KERNEL /boot/vmlinuz
  INITRD /boot/initrd.gz
  APPEND console=tty0 console=ttyS0
EOF
xorriso -as mkisofs -quiet -o vireo-guest.iso -V VIREO_GUEST -J -R \
  -isohybrid-mbr "$isohdpfx" \
  -b isolinux/isolinux.bin -c isolinux/boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table iso 2>xorriso.log ||
  { cat xorriso.log >&2; exit 1; }

cat >guest.env <<EOF
VIREO_GUEST_KERNEL=$outdir/vmlinuz
VIREO_GUEST_INITRD=$outdir/initrd.gz
VIREO_GUEST_DISK=$outdir/disk.qcow2
VIREO_GUEST_ISO=$outdir/vireo-guest.iso
VIREO_GUEST_ISO_VOLID=VIREO_GUEST
VIREO_GUEST_CMDLINE=console=tty0 console=ttyS0
VIREO_GUEST_KERNEL_VERSION=$kver
VIREO_GUEST_READY_LINE=VIREO-GUEST-READY
VIREO_GUEST_POWEROFF_LINE=VIREO-GUEST-POWEROFF
VIREO_GUEST_PROMPT=vireo-guest# 
EOF

chmod 644 vmlinuz initrd.gz disk.qcow2 vireo-guest.iso guest.env
for f in "${products[@]}"; do mv -f "$f" "$outdir/$f"; done
chmod 755 "$outdir"
echo "$hash" >"$outdir/stamp"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v o="$outdir" -v k="$kver" \
  'BEGIN { printf "guest: built %s (kernel %s) in %.1f s\n", o, k, e - s }'
