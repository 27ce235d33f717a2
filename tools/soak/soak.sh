#!/usr/bin/env bash
#! Soak and scale runs of the real vireo binary (issue 19): many hosts at once, an event
#! storm, daemons that come and go. Prints figures (markdown tables); fails only when
#! the app crashes or its list disagrees with libvirt, never on time.
#!
#! Usage: tools/soak/soak.sh [--ci] [hosts|storm|churn]
#!   --ci   the short runs (1 minute of storm, 10 restarts, a 10 s idle window, no
#!          virt-manager), on a debug build; tools/run-tests.sh runs them
#!   RUN    only that run (default: all three)
#! Without --ci: release build, 10 minutes of storm, 100 restarts, 30 s idle windows,
#! and virt-manager beside Vireo on the many-hosts case when it is installed
#! (tools/install-deps.sh bench). About half an hour.
#! Env: SOAK_MINUTES, SOAK_RESTARTS, SOAK_IDLE_SECS override the lengths.
#!
#! Needs root, tools/install-deps.sh test, and the test bed (its private libvirtd
#! serves the real qemu:///system sockets): on a shared machine run it in a private
#! mount and PID namespace, as the tests are run there.
#! The Rust side is benches/soak/ (it documents each run); the app side is the
#! diagnostics probe (VIREO_PROBE, src/ui/probe.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

mode=(bench --bench soak)
args=()
for a in "$@"; do
  case "$a" in
    --ci) mode=(test --bench soak); args+=(--ci) ;;
    -h | --help) sed -n 's/^#! \{0,1\}//p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
cargo "${mode[@]}" --locked --no-run -q
exec xvfb-run -a -s "-screen 0 1600x1000x24" dbus-run-session -- \
  cargo "${mode[@]}" --locked -q -- "${args[@]}"
