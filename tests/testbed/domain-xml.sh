#!/usr/bin/env bash
#! Prints the libvirt XML of a Vireo test guest domain (TCG, kernel boot or ISO boot),
#! for shell tests and for reading; the test kit (tests/kit/testbed.rs) builds the same XML.
#
# Usage: tests/testbed/domain-xml.sh NAME GUESTDIR kernel|iso [DISK [SERIALLOG]]
#   kernel  boot GUESTDIR/vmlinuz + initrd.gz with "console=tty0 console=ttyS0"
#   iso     boot GUESTDIR/vireo-guest.iso from a CD-ROM (isolinux), <boot dev='cdrom'/>
#   DISK    qcow2 for the virtio disk vda (give each domain its own overlay:
#           qemu-img create -f qcow2 -b GUESTDIR/disk.qcow2 -F qcow2 DISK)
#   SERIALLOG  file where virtlogd copies the serial console (the pty stays usable)
set -euo pipefail

name=$1 guest=$(readlink -f "$2") boot=$3 disk=${4:-} log=${5:-}

case "$boot" in
  kernel)
    os="    <kernel>$guest/vmlinuz</kernel>
    <initrd>$guest/initrd.gz</initrd>
    <cmdline>console=tty0 console=ttyS0</cmdline>"
    cdrom=""
    ;;
  iso)
    os="    <boot dev='cdrom'/>"
    cdrom="    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$guest/vireo-guest.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>"
    ;;
  *)
    echo "usage: $0 NAME GUESTDIR kernel|iso [DISK [SERIALLOG]]" >&2
    exit 2
    ;;
esac

vda=""
if [ -n "$disk" ]; then
  vda="    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$(readlink -f "$disk")'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
fi
serial_log=""
[ -n "$log" ] && serial_log="<log file='$log' append='off'/>"

cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
$os
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
$vda
$cdrom
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'>$serial_log<target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
    <memballoon model='virtio'/>
  </devices>
</domain>
EOF
