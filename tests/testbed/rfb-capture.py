#!/usr/bin/env python3
"""Fetches one full VNC (RFB 3.8) frame through a command's stdin/stdout, such as
`ssh HOST -W 127.0.0.1:5900`, and writes it as a binary PPM: the test bed's way to see a
remote guest's screen through an SSH channel with no VNC viewer in between.

Usage: rfb-capture.py OUT.ppm CMD [ARGS...]
Prints one line: the server's version, the frame size, the desktop name and the time
from starting CMD to the whole frame. Exit status 1 with a message on any failure.
Only security type None (QEMU's default for a local VNC server) and raw encoding.
"""

import struct
import subprocess
import sys
import time


def read_exact(stream, n):
    data = bytearray()
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError(f"the stream ended after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def capture(out_path, cmd):
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    rx, tx = proc.stdout, proc.stdin
    try:
        version = read_exact(rx, 12)
        if not version.startswith(b"RFB "):
            raise ValueError(f"not an RFB server: {version!r}")
        tx.write(b"RFB 003.008\n")
        (count,) = struct.unpack("B", read_exact(rx, 1))
        if count == 0:
            (length,) = struct.unpack(">I", read_exact(rx, 4))
            raise ValueError(f"server refused: {read_exact(rx, length).decode(errors='replace')}")
        types = read_exact(rx, count)
        if 1 not in types:
            raise ValueError(f"no security type None among {list(types)}")
        tx.write(b"\x01")
        (result,) = struct.unpack(">I", read_exact(rx, 4))
        if result != 0:
            raise ValueError(f"security result {result}")
        tx.write(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", read_exact(rx, 4))
        read_exact(rx, 16)  # the server's pixel format: replaced below
        (name_len,) = struct.unpack(">I", read_exact(rx, 4))
        name = read_exact(rx, name_len).decode(errors="replace")
        # 32 bits per pixel, little endian, true colour, 8 bits each: B, G, R, pad.
        tx.write(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        tx.write(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
        tx.write(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        frame = bytearray(width * height * 3)
        covered = 0
        while covered < width * height:
            msg_type = read_exact(rx, 1)[0]
            if msg_type != 0:
                raise ValueError(f"unexpected server message {msg_type}")
            (rects,) = struct.unpack(">xH", read_exact(rx, 3))
            for _ in range(rects):
                x, y, w, h, enc = struct.unpack(">HHHHi", read_exact(rx, 12))
                if enc != 0:
                    raise ValueError(f"unexpected encoding {enc}")
                data = read_exact(rx, w * h * 4)
                rgb = bytearray(w * h * 3)
                rgb[0::3], rgb[1::3], rgb[2::3] = data[2::4], data[1::4], data[0::4]
                for row in range(h):
                    at = ((y + row) * width + x) * 3
                    frame[at:at + w * 3] = rgb[row * w * 3:(row + 1) * w * 3]
                covered += w * h
        with open(out_path, "wb") as out:
            out.write(b"P6\n%d %d\n255\n" % (width, height))
            out.write(frame)
        print(f"{version.decode().strip()} {width}x{height} name={name!r} "
              f"first frame after {time.monotonic() - start:.2f} s")
    finally:
        tx.close()
        proc.terminate()
        proc.wait()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        capture(sys.argv[1], sys.argv[2:])
    except (EOFError, ValueError, OSError) as err:
        print(f"rfb-capture: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
