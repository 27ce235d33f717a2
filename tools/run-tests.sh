#!/usr/bin/env bash
#! Runs every check and test of Vireo: formatting, lints, the API docs, packaging validators,
#! licences, the README's run command (`make run` until Vireo is ready), then the whole
#! cargo test suite under Xvfb and a private session bus, and the short soak runs.
#! Called by `make test` (after tools/install-deps.sh test) and so by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --all-targets --locked -- -D warnings

step "docs (cargo doc; broken intra-doc links and other doc warnings fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items --locked

step "desktop file, AppStream metainfo, settings schema"
desktop-file-validate data/io.github.vireo.Vireo.desktop
appstreamcli validate --no-net data/io.github.vireo.Vireo.metainfo.xml
glib-compile-schemas --strict --dry-run data

step "licences (cargo-deny)"
if ! command -v cargo-deny >/dev/null; then
  cargo install --locked cargo-deny
fi
cargo deny --log-level error check licenses

# GTK needs a display and a session bus; the settings must not touch the user's dconf.
export GSETTINGS_BACKEND=memory
xvfb_run=(xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session --)

step "the README's run command (make run) until Vireo is ready, then Ctrl+Q"
"${xvfb_run[@]}" tools/check-run-command.sh

step "test bed: the guest on a private libvirtd, proven with virsh alone"
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
tests/testbed/smoke.sh "$target_dir/guest"

step "remote test host: the guest on a host in its own namespaces, over qemu+ssh, with virsh and ssh alone"
tests/testbed/remote-smoke.sh "$target_dir/guest"

step "cargo test (under Xvfb with a session bus)"
"${xvfb_run[@]}" cargo test --locked --no-fail-fast --all-targets -- --test-threads=2

# About 3 minutes: 22 hosts (20 x 500 VMs) with a 10 s idle window, 1 minute of event
# storm, 10 daemon kills and restarts, on the debug build the step above made. Prints
# figures; fails only if Vireo crashes or its list differs from libvirt's.
step "soak and scale, short runs (tools/soak/soak.sh --ci)"
tools/soak/soak.sh --ci

# About 2 minutes: search, sort and select latency in the window with 10,000 rows
# (3 rounds, debug build). Prints figures; fails only if the list shows wrong rows.
step "10,000 rows: search, sort, select (cargo bench --bench list, quick)"
"${xvfb_run[@]}" cargo test --locked -q --bench list -- --bench --quick

printf '\nAll checks passed in %s s\n' "$(( $(date +%s) - started ))"
