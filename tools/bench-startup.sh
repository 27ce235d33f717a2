#!/usr/bin/env bash
#! Side-by-side startup, memory and idle-CPU figures of Vireo and virt-manager on
#! libvirt's test driver under Xvfb (benches/harness/measure.sh), at the same 3-second
#! stats interval with only CPU figures collected. Prints each app's medians and the
#! ratios. Usage: tools/bench-startup.sh [N...]   (default: 100 1000)
#! Env: RUNS (3), IDLE_SECS (30), RENDERER (unset: the app's own choice, cairo under
#! Xvfb; "cairo" or "gl" sets GSK_RENDERER).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)

command -v virt-manager >/dev/null || apt-get install -y -q --no-install-recommends virt-manager >/dev/null
command -v import >/dev/null || apt-get install -y -q --no-install-recommends imagemagick >/dev/null
cargo build --release --locked -q
vireo=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/vireo

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# Vireo reads its settings from a keyfile here: 3 s ticks, CPU only, like virt-manager's defaults.
mkdir -p "$work/config/glib-2.0/settings"
cat > "$work/config/glib-2.0/settings/keyfile" <<'KEYS'
[io/github/vireo/Vireo]
stats-interval=uint32 3000
stats-cpu=true
stats-memory=false
stats-disk=false
stats-network=false
connections-initialized=true
KEYS
gsk=""; [ -n "${RENDERER:-}" ] && gsk="GSK_RENDERER=$RENDERER"

export NODE_DIR=$work/nodes OUTDIR=$work/runs RUNS=${RUNS:-3} IDLE_SECS=${IDLE_SECS:-30}
for n in "${sizes[@]}"; do
  LABEL=vireo APP_ENV="GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME=$work/config NO_AT_BRIDGE=1 GTK_A11Y=none GDK_BACKEND=x11 $gsk" \
    benches/harness/measure.sh "$n" "$vireo --connect {URI}" \
    "log_has \"ready: $n domains\" && window_visible '^Vireo\$'" | tail -1
  LABEL=virt-manager benches/harness/measure.sh "$n" 'virt-manager --no-fork --debug --connect {URI}' \
    'log_has "changed to state=Active" && window_visible "^Virtual Machine Manager$"' | tail -1
done

python3 - "$OUTDIR" "${sizes[@]}" <<'PY'
import sys, statistics as st, pathlib
out = pathlib.Path(sys.argv[1])
cols = {"t_ready_s": "ready (s)", "cpu_ready_s": "CPU to ready (s)", "hwm_end_kB": "peak RSS (MiB)", "idle_cpu_pct": "idle CPU (%)"}
def medians(label, n):
    rows = [l.rstrip("\n").split("\t") for l in open(out / f"{label}-N{n}.tsv")]
    hdr, rows = rows[0], rows[1:]
    m = {}
    for key in cols:
        i = hdr.index(key)
        vals = [float(r[i]) for r in rows if r[i] not in ("NA", "")]
        v = st.median(vals) if vals else float("nan")
        m[key] = v / 1024 if key == "hwm_end_kB" else v
    return m
print(f"\n| N | app | " + " | ".join(cols.values()) + " |")
print("|---|---|" + "---|" * len(cols))
for n in sys.argv[2:]:
    v, m = medians("vireo", n), medians("virt-manager", n)
    for label, r in (("Vireo", v), ("virt-manager", m)):
        print(f"| {n} | {label} | " + " | ".join(f"{r[k]:.2f}" for k in cols) + " |")
    ratio = lambda k: (m[k] / v[k]) if v[k] else float("inf")
    print(f"| {n} | virt-manager ÷ Vireo | " + " | ".join(f"{ratio(k):.1f}x" for k in cols) + " |")
PY
