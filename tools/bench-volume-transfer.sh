#!/usr/bin/env bash
#! Volume transfer benchmark: a 1 GiB volume uploaded and downloaded through libvirt's
#! stream by Vireo and by virsh vol-upload/vol-download, in the same sitting, on a
#! private libvirtd; prints MB/s and the CPU seconds of the client and of libvirtd.
#! Needs root and libvirt (tools/install-deps.sh test). Optional argument: rounds (3).
#! On a machine shared with other libvirt test runs, run it under their isolation
#! (e.g. /work/rooms/isolate.sh tools/bench-volume-transfer.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec cargo bench --bench volume_transfer -- "$@"
