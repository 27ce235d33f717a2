#!/usr/bin/env bash
#! Serial console benchmark: a real guest floods its ttyS0 (4 MiB) into Vireo's serial
#! console widget under Xvfb; prints throughput (MiB/s, guest -> stream and -> screen),
#! frames per second, the longest frame and main-loop gaps, and CPU per MiB, for several
#! read bounds per main-loop turn, plus a GTK-free baseline reader.
#! Needs root, QEMU and libvirt (tools/install-deps.sh test). Extra args go to the bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export GSETTINGS_BACKEND=memory
exec xvfb-run -a -s "-screen 0 1280x800x24" \
  dbus-run-session -- cargo bench --bench serial_console -- "$@"
