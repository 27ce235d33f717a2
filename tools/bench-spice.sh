#!/usr/bin/env bash
#! SPICE client benchmark: frames per second and client CPU for a guest screen that
#! changes all the time, at 1280x800 and 1920x1080, for remote-viewer (virt-viewer,
#! GTK 3) and Vireo's SPICE session, same guest, same sitting.
#!
#! The guest is the test bed's (tests/guest/build.sh) with two additions in its
#! initramfs: a DRM driver (bochs for QEMU's standard VGA, or qxl) whose framebuffer
#! console takes the size from `video=WxH` on the kernel command line, and
#! tools/bench-spice/fbanim.rs, which repaints the whole /dev/fb0 FPS times a second
#! with tools/bench-vnc.py's frame counter in the corner. QEMU runs it directly (no
#! libvirt: nothing to isolate) with SPICE on 127.0.0.1 and QEMU's defaults (what
#! libvirt gives a `<graphics type='spice'>` without options). Vireo's session asks
#! a local server for raw pixels (SPICE's preferred-compression message);
#! remote-viewer takes the server's default image compression.
#!
#! Clients, each alone against the running guest:
#!   remote-viewer       on its own Xvfb; the counter read off its screen = frames SHOWN
#!   vireo               examples/vnc_viewer.rs spice://…: Vireo's display widget (the VM
#!                       tab's), on its own Xvfb, read off its screen like remote-viewer;
#!                       no renderer set, so it draws with what the app chooses itself
#!                       (`vireo::startup::renderer`: cairo, as GL under Xvfb is llvmpipe)
#!   vireo-cairo         the same with GSK_RENDERER=cairo set by hand
#!   vireo-gl            the same with GSK_RENDERER=gl: GTK's GL renderer on Mesa's
#!                       software llvmpipe, what GTK alone would pick here
#!   vireo-decode        examples/spice_decode.rs: Vireo's SpiceSession, NO widget; the
#!                       counter read from the session's pixels at 60 Hz = frames DECODED
#!   vireo-decode-copy   the same plus one opaque copy of the screen per frame (what
#!                       the widget's texture upload starts with)
#!   vireo-decode-compressed  vireo-decode without asking for raw pixels (what it does
#!                       for a remote server: the server's default image compression)
#! CPU % = the client's (with its children) user+system time over wall time, 100 = one
#! core; QEMU's is the server side (and the guest painting), shown for reference.
#!
#! Usage: tools/bench-spice.sh [SIZE...]            (default: 1280x800 1920x1080)
#! Env:   CLIENTS="remote-viewer vireo vireo-gl" (also vireo-decode*) VIDEO=vga|qxl
#!        WINDOW=20 REPS=3 WARMUP=5 FPS=60 SPICE_PORT=5970 VIEW_DISPLAY=61 RESULTS=file
#!        KEEP=1 (keep the serial, QEMU and client logs)
#! Needs: tools/install-deps.sh bench (virt-viewer, python3-xlib, python3-numpy), QEMU,
#!        and: cargo build --release --example spice_decode --example vnc_viewer
set -u
cd "$(dirname "$0")/.."
HERE=$(pwd)
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1280x800 1920x1080)
CLIENTS=${CLIENTS:-"remote-viewer vireo vireo-gl"}
VIDEO=${VIDEO:-vga}
WINDOW=${WINDOW:-20}; REPS=${REPS:-3}; WARMUP=${WARMUP:-5}; FPS=${FPS:-60}
SPICE_PORT=${SPICE_PORT:-5970}; VIEW_DISPLAY=${VIEW_DISPLAY:-61}
TARGET=${CARGO_TARGET_DIR:-$HERE/target}
DECODE_BIN=${DECODE_BIN:-$TARGET/release/examples/spice_decode}
VIEWER_BIN=${VIEWER_BIN:-$TARGET/release/examples/vnc_viewer}
GUEST=${VIREO_GUEST_DIR:-$TARGET/guest}
WORK=$TARGET/bench-spice
PY=/usr/bin/python3
RESULTS=${RESULTS:-$(mktemp /tmp/bench-spice.XXXXXX.jsonl)}

for b in Xvfb remote-viewer qemu-system-x86_64 rustc; do
  command -v $b >/dev/null || { echo "missing $b (tools/install-deps.sh bench)" >&2; exit 1; }
done
$PY -c 'import Xlib, numpy' 2>/dev/null || { echo "need python3-xlib python3-numpy" >&2; exit 1; }
case " $CLIENTS " in *" vireo-decode"*)
  [ -x "$DECODE_BIN" ] || { echo "build first: cargo build --release --example spice_decode" >&2; exit 1; } ;;
esac
case " $CLIENTS " in *" vireo "*|*" vireo-cairo "*|*" vireo-gl "*)
  [ -x "$VIEWER_BIN" ] || { echo "build first: cargo build --release --example vnc_viewer" >&2; exit 1; } ;;
esac

# --- the bench guest: the test guest's initramfs + DRM drivers + fbanim --------------
tests/guest/build.sh "$GUEST" >/dev/null || exit 1
mkdir -p "$WORK"
stamp=$(cat tools/bench-spice.sh tools/bench-spice/fbanim.rs "$GUEST/stamp" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$WORK/initrd.gz" ]; then
  echo "# building the bench guest in $WORK" >&2
  b=$(mktemp -d "$WORK/.build.XXXXXX")
  rustc -O -C target-feature=+crt-static -C strip=symbols tools/bench-spice/fbanim.rs \
    -o "$b/fbanim" || exit 1
  kdeb=$(ls "$GUEST"/debs/linux-image-*.deb | head -n1)
  dpkg-deb -x "$kdeb" "$b/k"
  kver=$(ls "$b/k/lib/modules")
  depmod -b "$b/k" "$kver"
  mkdir "$b/root"
  (cd "$b/root" && zcat "$GUEST/initrd.gz" | cpio -id --quiet)
  for drv in bochs qxl; do
    : >"$b/root/etc/bench-$drv.order"
    modprobe -d "$b/k" -S "$kver" --show-depends "$drv" | while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      rel=${path#"$b/k/lib/modules/$kver/"}
      mkdir -p "$b/root/lib/modules/$kver/$(dirname "$rel")"
      cp "$path" "$b/root/lib/modules/$kver/$rel"
      echo "$rel" >>"$b/root/etc/bench-$drv.order"
    done
  done
  install -m 755 "$b/fbanim" "$b/root/bin/fbanim"
  cat >>"$b/root/etc/init.d/rcS" <<EOS
# Bench guest (tools/bench-spice.sh): vireo.fbanim=FPS vireo.fbdrv=bochs|qxl
for arg in \$(cat /proc/cmdline); do
  case \$arg in vireo.fbanim=*) fps=\${arg#*=} ;; vireo.fbdrv=*) drv=\${arg#*=} ;; esac
done
if [ -n "\${fps:-}" ]; then
  while read -r m; do insmod /lib/modules/$kver/\$m 2>/dev/null; done </etc/bench-\${drv:-bochs}.order
  i=0; while [ ! -e /dev/fb0 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
  echo "VIREO-FBANIM fb0 \$(cat /sys/class/graphics/fb0/virtual_size 2>/dev/null)"
  printf '\033[?25l' >/dev/tty1
  /bin/fbanim "\$fps" >/dev/ttyS0 2>&1 &
fi
EOS
  (cd "$b/root" && find . -print0 | LC_ALL=C sort -z |
    cpio --quiet -o -0 -H newc -R 0:0 | gzip -1 -n) >"$WORK/initrd.gz"
  rm -rf "$b"
  echo "$stamp" >"$WORK/stamp"
fi

PIDS=(); QPID=""; CPID=""; T=""
cleanup() {
  [ -n "$CPID" ] && kill -- -"$CPID" 2>/dev/null
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  [ -n "$CPID" ] && kill -9 -- -"$CPID" 2>/dev/null
  [ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  PIDS=(); QPID=""; CPID=""
  if [ -n "$T" ] && [ "${KEEP:-0}" = 1 ]; then echo "# logs kept in $T" >&2
  elif [ -n "$T" ]; then rm -rf "$T"; fi
  T=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_socket() { for _ in $(seq 100); do [ -S /tmp/.X11-unix/X$1 ] && return 0; sleep 0.1; done; return 1; }

# start_guest SIZE: QEMU with the animated framebuffer, SPICE on 127.0.0.1:SPICE_PORT.
start_guest() {
  local size=$1 vga
  case $VIDEO in
    vga) vga=(-vga std) ;;
    qxl) vga=(-vga qxl) ;;
    *) echo "VIDEO must be vga or qxl" >&2; return 1 ;;
  esac
  T=$(mktemp -d /tmp/bench-spice.XXXXXX)
  qemu-system-x86_64 -machine pc -accel tcg -m 512 -smp 1 -nodefaults "${vga[@]}" \
    -kernel "$GUEST/vmlinuz" -initrd "$WORK/initrd.gz" \
    -append "console=tty0 console=ttyS0 video=$size vireo.fbanim=$FPS vireo.fbdrv=${VIDEO/vga/bochs}" \
    -spice "port=$SPICE_PORT,addr=127.0.0.1,disable-ticketing=on" \
    -serial "file:$T/serial.log" -display none >"$T/qemu.log" 2>&1 &
  QPID=$!
  for _ in $(seq 240); do
    grep -q "VIREO-FBANIM .* started" "$T/serial.log" 2>/dev/null && break
    kill -0 $QPID 2>/dev/null || break
    sleep 0.5
  done
  if ! grep -q "VIREO-FBANIM ${size} started" "$T/serial.log" 2>/dev/null; then
    echo "the guest did not start painting at $size:" >&2
    tail -5 "$T/serial.log" "$T/qemu.log" >&2
    return 1
  fi
}

# run_client LABEL SIZE
run_client() {
  local label=$1 size=$2 w=${1%x*}
  local w=${size%x*} h=${size#*x}
  local args=(--pid qemu=$QPID --window "$WINDOW" --reps "$REPS"
    --warmup "$WARMUP" --label "$label $size ($VIDEO)" --results "$RESULTS")
  case $label in
    remote-viewer|vireo|vireo-cairo|vireo-gl)
      [ -e /tmp/.X$VIEW_DISPLAY-lock ] && { echo "display :$VIEW_DISPLAY in use" >&2; return 1; }
      Xvfb :$VIEW_DISPLAY -screen 0 $((w+320))x$((h+240))x24 -nolisten tcp >"$T/xview.log" 2>&1 &
      PIDS+=($!)
      wait_socket $VIEW_DISPLAY || { echo "Xvfb failed" >&2; return 1; }
      local viewer=(remote-viewer "spice://127.0.0.1:$SPICE_PORT") renderer=()
      # Vireo's own display widget, as a VM tab shows a SPICE VM.
      [ $label != remote-viewer ] &&
        viewer=("$VIEWER_BIN" "spice://127.0.0.1:$SPICE_PORT" --size "${w}x$((h+40))")
      [ $label = vireo-cairo ] && renderer=(GSK_RENDERER=cairo)
      [ $label = vireo-gl ] && renderer=(GSK_RENDERER=gl)
      setsid env DISPLAY=:$VIEW_DISPLAY NO_AT_BRIDGE=1 GDK_BACKEND=x11 GSETTINGS_BACKEND=memory \
        "${renderer[@]}" "${viewer[@]}" >"$T/client.log" 2>&1 &
      CPID=$!
      args+=(--view-display :$VIEW_DISPLAY) ;;
    vireo-decode|vireo-decode-copy|vireo-decode-compressed)
      local opts=()
      [ $label = vireo-decode-copy ] && opts=(--copy)
      [ $label = vireo-decode-compressed ] && opts=(--remote)
      setsid "$DECODE_BIN" "127.0.0.1:$SPICE_PORT" "${opts[@]}" >"$T/client.log" 2>&1 &
      CPID=$!
      args+=(--frames-log "$T/client.log") ;;
    *) echo "unknown client $label" >&2; return 1 ;;
  esac
  echo "# $label $size ($VIDEO)"
  $PY tools/bench-spice.py --pid client=$CPID "${args[@]}"
  local rc=$?
  kill -0 $CPID 2>/dev/null || { echo "client exited early:"; tail -5 "$T/client.log"; } >&2
  kill -- -"$CPID" 2>/dev/null; sleep 0.5; kill -9 -- -"$CPID" 2>/dev/null
  wait "$CPID" 2>/dev/null; CPID=""
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=()
  return $rc
}

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores; results in $RESULTS"
for size in "${SIZES[@]}"; do
  start_guest "$size" || { cleanup; continue; }
  for c in $CLIENTS; do run_client "$c" "$size"; done
  cleanup
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$RESULTS" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"\n{'client':<40}{'fps':>7}{'guest fps':>10}{'client CPU %':>13}{'QEMU CPU %':>11}{'RSS MiB':>9}")
for r in rows:
    print(f"{r['label']:<40}{r.get('fps', 0):>7.1f}{r.get('guest_fps') or 0:>10.1f}"
          f"{r.get('cpu_client', 0):>13.1f}{r.get('cpu_qemu', 0):>11.1f}{r.get('client_peak_rss_MiB', 0):>9.1f}")
print("fps: remote-viewer, vireo, vireo-gl = frames shown on their screens; vireo-decode* = frames decoded, NO widget")
PYEOF
