#!/usr/bin/env bash
#! VNC viewer benchmark: frames shown per second, viewer CPU and peak memory of Vireo's
#! VNC display beside gtk-vnc's GTK3 gvncviewer, same server, same sitting.
#!
#! Vireo's viewer is examples/vnc_viewer.rs: the display in a window, with the process
#! set up by the app's own start-up code (vireo::startup::prepare_process) and the
#! display configured as a VM tab configures it (GuestDisplay::follow_settings, default
#! settings): the app's configuration, nothing tuned for the benchmark.
#!   vireo       over TCP, with the renderer the app chooses itself (cairo here, as GL
#!               under Xvfb is Mesa's software llvmpipe: vireo::startup::renderer);
#!               like for like with gvncviewer (GTK 3 draws with cairo)
#!   vireo-gl    GSK_RENDERER=gl: GTK's GL renderer on llvmpipe, what GTK alone picks
#!   vireo-unix  over a unix socket: how a VM on this host is reached (libvirt hands
#!               over a socket; gvncviewer has no such mode to set beside it)
#!
#! An Xvfb whose whole picture changes 60 times a second (with a frame counter in its
#! corner, see tools/bench-vnc.py) is served by x11vnc; each viewer runs alone on a
#! second Xvfb and the counter is read off that screen: every change is a frame the
#! viewer really showed. CPU % is the viewer's (with its children) user+system time
#! over wall time, 100 = one core; peak RSS is its VmHWM. gvncviewer lets the server use
#! JPEG; Vireo picks its own encodings (raw pixels from a server on this machine).
#!
#! Usage: tools/bench-vnc.sh [SIZE...]            (default: 1280x800 1920x1080)
#! Env:   VIEWERS="gvncviewer vireo vireo-gl vireo-unix"
#!        WINDOW=30 REPS=3 WARMUP=5 FPS=60  SRC_DISPLAY=50 VIEW_DISPLAY=51 VNC_PORT=5950
#!        VIREO_BIN=target/release/examples/vnc_viewer  RESULTS=file.jsonl
#! Needs: tools/install-deps.sh bench, and a release build:
#!        cargo build --release --example vnc_viewer
set -u
cd "$(dirname "$0")/.."
HERE=$(pwd)
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1280x800 1920x1080)
VIEWERS=${VIEWERS:-"gvncviewer vireo vireo-gl vireo-unix"}
WINDOW=${WINDOW:-30}; REPS=${REPS:-3}; WARMUP=${WARMUP:-5}; FPS=${FPS:-60}
TARGET=${CARGO_TARGET_DIR:-$HERE/target}
VIREO_BIN=${VIREO_BIN:-$TARGET/release/examples/vnc_viewer}
SRC_DISPLAY=${SRC_DISPLAY:-50}; VIEW_DISPLAY=${VIEW_DISPLAY:-51}; VNC_PORT=${VNC_PORT:-5950}
PY=/usr/bin/python3
RESULTS=${RESULTS:-$(mktemp /tmp/bench-vnc.XXXXXX.jsonl)}

for b in Xvfb x11vnc; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
$PY -c 'import Xlib, numpy' 2>/dev/null || { echo "need python3-xlib python3-numpy" >&2; exit 1; }
[ -x "$VIREO_BIN" ] || { echo "build first: cargo build --release --example vnc_viewer" >&2; exit 1; }

PIDS=(); VPID=""; T=""
cleanup() {
  [ -n "$VPID" ] && kill -- -"$VPID" 2>/dev/null
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill "${PIDS[i]}" 2>/dev/null; done
  sleep 0.5
  [ -n "$VPID" ] && kill -9 -- -"$VPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  PIDS=(); VPID=""
  [ -n "$T" ] && rm -rf "$T"; T=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_socket() { for _ in $(seq 100); do [ -S /tmp/.X11-unix/X$1 ] && return 0; sleep 0.1; done; return 1; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# run_one LABEL SIZE ENV COMMAND...
run_one() {
  local label=$1 size=$2 env=$3; shift 3
  local w=${size%x*} h=${size#*x}
  for d in $SRC_DISPLAY $VIEW_DISPLAY; do
    [ -e /tmp/.X$d-lock ] && { echo "display :$d in use" >&2; return 1; }
  done
  T=$(mktemp -d /tmp/bench-vnc.XXXXXX)
  Xvfb :$SRC_DISPLAY -screen 0 ${size}x24 -nolisten tcp >"$T/xsrc.log" 2>&1 & PIDS+=($!)
  Xvfb :$VIEW_DISPLAY -screen 0 $((w+320))x$((h+240))x24 -nolisten tcp >"$T/xview.log" 2>&1 & PIDS+=($!)
  wait_socket $SRC_DISPLAY && wait_socket $VIEW_DISPLAY || { echo "Xvfb failed" >&2; cleanup; return 1; }
  $PY tools/bench-vnc.py source --display :$SRC_DISPLAY --fps "$FPS" --ready "$T/ready" \
    >"$T/source.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 300); do [ -e "$T/ready" ] && break; sleep 0.1; done
  [ -e "$T/ready" ] || { echo "source failed: $(cat "$T/source.log")" >&2; cleanup; return 1; }
  x11vnc -display :$SRC_DISPLAY -rfbport $VNC_PORT -listen 127.0.0.1 -unixsock "$T/vnc.sock" \
    -shared -forever -nopw -quiet \
    >"$T/x11vnc.log" 2>&1 & PIDS+=($!); local x11vnc=$!
  wait_port $VNC_PORT || { echo "x11vnc failed" >&2; cleanup; return 1; }
  local cmd=("$@")
  cmd=("${cmd[@]//\{PORT\}/$VNC_PORT}"); cmd=("${cmd[@]//\{DISP\}/$((VNC_PORT-5900))}")
  cmd=("${cmd[@]//\{SIZE\}/$size}"); cmd=("${cmd[@]//\{SOCK\}/$T/vnc.sock}")
  echo "# $label $size: ${cmd[*]} (env: $env)"
  setsid env DISPLAY=:$VIEW_DISPLAY NO_AT_BRIDGE=1 GTK_A11Y=none GDK_BACKEND=x11 \
    GSETTINGS_BACKEND=memory $env "${cmd[@]}" >"$T/viewer.log" 2>&1 & VPID=$!
  $PY tools/bench-vnc.py measure --view-display :$VIEW_DISPLAY --src-display :$SRC_DISPLAY \
    --pid viewer=$VPID --pid x11vnc=$x11vnc --window "$WINDOW" --reps "$REPS" \
    --warmup "$WARMUP" --label "$label $size" --results "$RESULTS"
  local rc=$?
  kill -0 $VPID 2>/dev/null || { echo "viewer exited early:"; tail -5 "$T/viewer.log"; } >&2
  cleanup
  return $rc
}

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores; results in $RESULTS"
for size in "${SIZES[@]}"; do
  for v in $VIEWERS; do
    case $v in
      gvncviewer) run_one gvncviewer "$size" "" gvncviewer 127.0.0.1:{DISP} ;;
      vireo) run_one vireo "$size" "" "$VIREO_BIN" 127.0.0.1:{PORT} --size {SIZE} ;;
      vireo-unix) run_one vireo-unix "$size" "" "$VIREO_BIN" unix:{SOCK} --size {SIZE} ;;
      vireo-gl) run_one vireo-gl "$size" GSK_RENDERER=gl "$VIREO_BIN" 127.0.0.1:{PORT} --size {SIZE} ;;
      *) echo "unknown viewer $v" >&2 ;;
    esac
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$RESULTS" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = {r['label'].split()[1]: r for r in rows if r['label'].startswith('gvncviewer ')}
print(f"\n{'viewer':<24}{'fps shown':>10}{'viewer CPU %':>13}{'x11vnc CPU %':>13}"
      f"{'peak RSS MiB':>13}{'fps / gvnc':>11}{'CPU / gvnc':>11}")
for r in rows:
    g = base.get(r['label'].split()[1])
    fps = f"{r['shown_fps'] / g['shown_fps']:.2f}" if g and g['shown_fps'] else '-'
    cpu = f"{r['cpu_viewer'] / g['cpu_viewer']:.2f}" if g and g['cpu_viewer'] > 0 else '-'
    print(f"{r['label']:<24}{r['shown_fps']:>10.1f}{r['cpu_viewer']:>13.1f}"
          f"{r.get('cpu_x11vnc', 0):>13.1f}{r.get('viewer_peak_rss_MiB', 0):>13.1f}{fps:>11}{cpu:>11}")
PYEOF
