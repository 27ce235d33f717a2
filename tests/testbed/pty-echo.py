#!/usr/bin/env python3
"""Runs a console command on a pseudo-terminal (virsh console wants one), types
`echo TAG` into it and waits for the guest's answer: the test bed's check that a serial
console answers, e.g. through `virsh -c qemu+ssh://... console NAME`.

Usage: pty-echo.py TAG SECONDS CMD [ARGS...]
Exit status 0 once TAG came back on a line of its own (the echo's output, not the typed
command), 1 with the transcript's tail after SECONDS.
"""

import os
import pty
import select
import signal
import sys
import time


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    tag, limit, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    start = time.monotonic()
    seen = b""
    typed_at = None
    try:
        while time.monotonic() - start < limit:
            # Type once the console is attached (virsh prints its escape hint), and
            # again every 2 s in case the first keys came before the guest's shell.
            if b"Escape character" in seen and (typed_at is None or time.monotonic() - typed_at > 2):
                os.write(fd, f"\recho {tag}\r".encode())
                typed_at = time.monotonic()
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
                lines = seen.replace(b"\r", b"").split(b"\n")
                if tag.encode() in lines:
                    print(f"console answered after {time.monotonic() - start:.2f} s")
                    return 0
        print(f"pty-echo: no answer '{tag}' within {limit} s; transcript tail:\n"
              f"{seen[-600:].decode(errors='replace')}", file=sys.stderr)
        return 1
    finally:
        # Detach as a person would (Ctrl+]); virsh console ignores SIGTERM.
        try:
            os.write(fd, b"\x1d")
        except OSError:
            pass
        deadline = time.monotonic() + 2
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.05)

if __name__ == "__main__":
    sys.exit(main())
