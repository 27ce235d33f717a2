#!/usr/bin/env bash
#! Installs the Debian 12 packages Vireo needs to build (`build`), to build and run its
#! whole test suite (`test`), or also to run the side-by-side benchmarks in tools/
#! (`bench`: virt-manager, gtk-vnc's viewers). Only packages that are missing are installed.
set -euo pipefail

mode=${1:-build}

# libgtksourceview-5-dev: the XML tab's editor (sourceview5 crate; it pulls the XML
# language file and the Adwaita style schemes of libgtksourceview-5-common).
build_pkgs=(pkg-config gettext libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev
  libvte-2.91-gtk4-dev libgvnc-1.0-dev libspice-client-glib-2.0-dev libusb-1.0-0-dev
  libgtksourceview-5-dev libvirt-dev desktop-file-utils appstream)
# libglib2.0-data: GLib's translations, which give sizes their units ("8,0 Gio").
# openssh-client: libvirt's qemu+ssh transport and Vireo's console tunnels run ssh.
run_pkgs=(libvirt-clients osinfo-db dbus xorriso libglib2.0-data openssh-client)
# at-spi2-core, python3-gi and gir1.2-atspi-2.0: tests/kit drives the real binary
# through its accessible tree (the AT-SPI bus and Debian's python3 bindings).
# dnsmasq-base: the DHCP server of libvirt's NAT networks (tests/host_daemon.rs).
# locales: localedef compiles fr_FR.UTF-8 for the French UI tests.
# openssh-server, iproute2, procps: the remote test host (tests/testbed/remote-host.sh).
test_pkgs=(xvfb xauth dbus-x11 xdotool x11vnc imagemagick jq
  libvirt-daemon libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 dnsmasq-base
  qemu-utils busybox-static cpio isolinux syslinux-common acpid kmod zstd python3
  at-spi2-core python3-gi gir1.2-atspi-2.0 locales
  openssh-server iproute2 procps ovmf)
bench_pkgs=(virt-manager virt-viewer gvncviewer python3-xlib python3-numpy linux-perf)

case "$mode" in
  build) want=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
extra=()
# The image may carry a newer qemu-utils from backports that blocks Debian 12's QEMU:
# pin it to the version qemu-system-common comes with.
if printf '%s\n' "${missing[@]}" | grep -qE '^qemu-(system-x86|utils)$'; then
  qemu_version=$(apt-cache policy qemu-system-common | awk '/Candidate:/ {print $2}')
  extra=(--allow-downgrades "qemu-utils=$qemu_version")
  for i in "${!missing[@]}"; do [ "${missing[$i]}" = qemu-utils ] && unset 'missing[i]'; done
fi
# Packages with a service (openssh-server, libvirt) must not start it on a machine
# without an init that manages them: the tests start their own private daemons. Where
# the image has no policy-rc.d saying so, one is in place for this install only.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
  $sudo chmod 755 $policy
  own_policy=1
fi
status=0
$sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 \
  "${missing[@]}" "${extra[@]}" >/dev/null || status=$?
[ -n "$own_policy" ] && $sudo rm -f $policy
exit $status
