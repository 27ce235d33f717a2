#!/usr/bin/python3
"""Helper of tools/bench-vnc.sh: `source` animates an X display, `measure` reads the
frame counter off a viewer's display and the viewer's CPU.

The source repaints the whole screen FPS times a second (moving xor gradients, all
pixels change) and draws a 16-bit frame counter in the top-left corner: a row of
32x32 cells, red and green markers then the bits white/black, and a second row with
the markers swapped and the bits inverted (so a half-updated counter is rejected).
The measurer finds the markers on the viewer's screen (at any scale), polls the
counter, and counts its changes: the frames the viewer really showed.
Needs Debian's python3-xlib and python3-numpy (run with /usr/bin/python3).
"""
import argparse, json, os, signal, statistics, sys, time

CELL, BITS = 32, 16
RED, GREEN, WHITE, BLACK = 0xff0000, 0x00ff00, 0xffffff, 0x000000


def connect(name):
    from Xlib import display
    return display.Display(name)


def frames(w, h, count):
    import numpy as np
    y, x = np.mgrid[0:h, 0:w].astype(np.uint32)
    out = []
    for i in range(count):
        s = 24 * i
        r = ((x + s) & 255) * 3 // 4          # never bright enough to look like a marker
        g = (y + 2 * s) & 255
        b = ((x ^ y) + 3 * s) & 255
        out.append(np.stack([b, g, r, np.zeros_like(r)], -1).astype(np.uint8).tobytes())
    return out


def counter_cells(value):
    cells = {RED: [(0, 0), (1, 1)], GREEN: [(1, 0), (0, 1)], WHITE: [], BLACK: []}
    for i in range(BITS):
        bit = (value >> (BITS - 1 - i)) & 1
        cells[WHITE if bit else BLACK].append((2 + i, 0))
        cells[BLACK if bit else WHITE].append((2 + i, 1))
    return {c: [(cx * CELL, cy * CELL, CELL, CELL) for cx, cy in v] for c, v in cells.items()}


def source(a):
    from Xlib import X
    d = connect(a.display)
    root = d.screen().root
    w, h = d.screen().width_in_pixels, d.screen().height_in_pixels
    gcs = {c: root.create_gc(foreground=c) for c in (RED, GREEN, WHITE, BLACK)}
    pixmaps = []
    rows = max(1, 200000 // (w * 4))       # X requests are size-limited: upload in strips
    for data in frames(w, h, 8):
        p = root.create_pixmap(w, h, 24)
        for y0 in range(0, h, rows):
            n = min(rows, h - y0)
            p.put_image(gcs[BLACK], 0, y0, w, n, X.ZPixmap, 24, 0, data[y0 * w * 4:(y0 + n) * w * 4])
        pixmaps.append(p)
    d.sync()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    open(a.ready, 'w').write('ready\n')
    period, due, n = 1.0 / a.fps, time.monotonic(), 0
    while not stop:
        root.copy_area(gcs[BLACK], pixmaps[n % len(pixmaps)], 0, 0, w, h, 0, 0)
        for colour, rects in counter_cells(n & 0xffff).items():
            root.poly_fill_rectangle(gcs[colour], rects)
        d.sync()
        n += 1
        due += period
        late = due - time.monotonic()
        if late > 0:
            time.sleep(late)
        elif late < -1:
            due = time.monotonic()


class Reader:
    """Reads the counter on a display; `box` = (x, y, cell width, cell height)."""

    def __init__(self, name, box=None):
        from Xlib import X
        self.X, self.d, self.box = X, connect(name), box
        self.root = self.d.screen().root

    def grab(self, x, y, w, h):
        import numpy as np
        img = self.root.get_image(x, y, w, h, self.X.ZPixmap, 0xffffffff)
        return np.frombuffer(img.data, np.uint8).reshape(h, w, 4).astype(np.int16)

    def locate(self):
        scr = self.d.screen()
        W, H = scr.width_in_pixels, scr.height_in_pixels
        a = self.grab(0, 0, W, H)
        red = (a[..., 2] > 180) & (a[..., 1] < 80) & (a[..., 0] < 80)
        green = (a[..., 1] > 180) & (a[..., 2] < 80) & (a[..., 0] < 80)
        import numpy as np
        for y, x in np.argwhere(red)[:20000]:
            if x > 0 and red[y, x - 1] or y > 0 and red[y - 1, x]:
                continue                    # not a top-left corner
            cw = int(np.argmin(red[y, x:])) or W - x
            ch = int(np.argmin(red[y:, x])) or H - y
            if cw < 6 or ch < 6:
                continue
            def at(fx, fy, m):
                px, py = int(x + fx * cw), int(y + fy * ch)
                return px < W and py < H and m[py, px]
            if at(1.5, 0.5, green) and at(0.5, 1.5, green) and at(1.5, 1.5, red):
                self.box = (int(x), int(y), cw, ch)
                return self.box
        return None

    def read(self):
        x0, y0, cw, ch = self.box
        a = self.grab(x0, y0, (2 + BITS) * cw, 2 * ch)
        xs = [int((i + 0.5) * cw) for i in range(2 + BITS)]
        top, bottom = a[int(0.5 * ch), xs], a[int(1.5 * ch), xs]
        if not (top[0, 2] > 180 and top[0, 1] < 80 and top[1, 1] > 180 and top[1, 2] < 80):
            return None
        b0 = top[2:, :3].sum(-1) > 382
        b1 = bottom[2:, :3].sum(-1) > 382
        if (b0 == b1).any():
            return None                     # torn frame
        v = 0
        for bit in b0:
            v = (v << 1) | int(bit)
        return v


TICK = os.sysconf('SC_CLK_TCK')


def cpu_ticks(pid):
    """utime+stime of pid and all its descendants."""
    parents = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                s = open(f'/proc/{d}/stat').read()
                f = s[s.rindex(')') + 2:].split()
                parents[int(d)] = (int(f[1]), int(f[11]) + int(f[12]))
            except (OSError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += parents.get(p, (0, 0))[1]
        todo += [c for c, (pp, _) in parents.items() if pp == p]
    return total


def rss_mib(pid):
    try:
        for line in open(f'/proc/{pid}/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(a):
    view = Reader(a.view_display)
    src = Reader(a.src_display, (0, 0, CELL, CELL))
    end = time.monotonic() + 30
    while not view.locate():
        if time.monotonic() > end:
            sys.exit('frame counter not found on the viewer display')
        time.sleep(1)
    print(f'# counter at {view.box} (scale {view.box[2] / CELL:.2f})', flush=True)
    time.sleep(a.warmup)
    pids = dict(p.split('=') for p in a.pid)
    rows = []
    for rep in range(a.reps):
        c0 = {k: cpu_ticks(int(p)) for k, p in pids.items()}
        s0, t0 = src.read(), time.monotonic()
        last, shown, torn, samples = None, 0, 0, 0
        while time.monotonic() - t0 < a.window:
            v = view.read()
            samples += 1
            if v is None:
                torn += 1
            elif v != last:
                shown += last is not None
                last = v
            time.sleep(1.0 / a.sample_hz)
        el = time.monotonic() - t0
        s1 = src.read()
        row = {'rep': rep + 1, 'shown_fps': round(shown / el, 1)}
        if s0 is not None and s1 is not None:
            row['src_fps'] = round(((s1 - s0) & 0xffff) / el, 1)
        for k, p in pids.items():
            row[f'cpu_{k}'] = round(100.0 * (cpu_ticks(int(p)) - c0[k]) / TICK / el, 1)
        row['unreadable_pct'] = round(100.0 * torn / max(samples, 1), 1)
        row['viewer_peak_rss_MiB'] = round(rss_mib(int(pids['viewer'])), 1)
        rows.append(row)
        print('# ' + json.dumps(row), flush=True)
    med = {k: statistics.median(r[k] for r in rows if k in r)
           for k in rows[0] if k != 'rep'}
    med['label'] = a.label
    print('MEDIAN ' + json.dumps(med), flush=True)
    if a.results:
        with open(a.results, 'a') as f:
            f.write(json.dumps(med) + '\n')


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('source')
    s.add_argument('--display', required=True)
    s.add_argument('--fps', type=float, default=60)
    s.add_argument('--ready', required=True)
    m = sub.add_parser('measure')
    m.add_argument('--view-display', required=True)
    m.add_argument('--src-display', required=True)
    m.add_argument('--pid', action='append', default=[], help='name=pid (with descendants)')
    m.add_argument('--window', type=float, default=30)
    m.add_argument('--reps', type=int, default=3)
    m.add_argument('--warmup', type=float, default=5)
    m.add_argument('--sample-hz', type=float, default=200)
    m.add_argument('--label', default='')
    m.add_argument('--results', default='')
    a = p.parse_args()
    {'source': source, 'measure': measure}[a.cmd](a)


if __name__ == '__main__':
    main()
