#!/usr/bin/python3
"""Helper of tools/bench-spice.sh: measures one SPICE client for WINDOW seconds, REPS
times: frames it showed (remote-viewer: the counter read off its X display with
tools/bench-vnc.py's reader) or decoded (Vireo's decode-only client: the "frames N"
lines it prints), its CPU and QEMU's (user+system over wall time, 100 = one core),
and the guest's own frame rate (how far fbanim's counter moved; its serial lines
arrive late when QEMU's main loop is busy with the display).
Needs Debian's python3-xlib and python3-numpy (run with /usr/bin/python3).
"""
import argparse, importlib.util, json, os, re, statistics, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('benchvnc', os.path.join(HERE, 'bench-vnc.py'))
benchvnc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchvnc)


class FrameLines:
    """Follows a client's stdout for "frames N" lines (running total)."""

    def __init__(self, path):
        self.path, self.total, self.counter = path, 0, None
        threading.Thread(target=self.follow, daemon=True).start()

    def follow(self):
        with open(self.path) as f:
            while True:
                line = f.readline()
                if not line:
                    time.sleep(0.1)
                    continue
                m = re.match(r'frames (\d+)(?: counter (\d+))?', line)
                if m:
                    self.total = int(m.group(1))
                    if m.group(2):
                        self.counter = int(m.group(2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--view-display', help='X display of a viewer (counter read off it)')
    p.add_argument('--frames-log', help="a decode-only client's stdout")
    p.add_argument('--pid', action='append', default=[], help='name=pid (with descendants)')
    p.add_argument('--window', type=float, default=20)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--warmup', type=float, default=5)
    p.add_argument('--sample-hz', type=float, default=200)
    p.add_argument('--label', default='')
    p.add_argument('--results', default='')
    a = p.parse_args()
    pids = dict(x.split('=') for x in a.pid)
    view = lines = None
    if a.view_display:
        view = benchvnc.Reader(a.view_display)
        end = time.monotonic() + 60
        while not view.locate():
            if time.monotonic() > end:
                sys.exit('frame counter not found on the viewer display')
            time.sleep(1)
        print(f'# counter at {view.box} (scale {view.box[2] / benchvnc.CELL:.2f})', flush=True)
    else:
        lines = FrameLines(a.frames_log)
    time.sleep(a.warmup)
    rows = []
    for rep in range(a.reps):
        c0 = {k: benchvnc.cpu_ticks(int(v)) for k, v in pids.items()}
        t0 = time.monotonic()
        shown = torn = samples = 0
        if view:
            last = first = None
            while time.monotonic() - t0 < a.window:
                v = view.read()
                samples += 1
                if v is None:
                    torn += 1
                elif v != last:
                    shown += last is not None
                    last = v
                    first = v if first is None else first
                time.sleep(1.0 / a.sample_hz)
        else:
            f0, first = lines.total, lines.counter
            time.sleep(a.window)
            shown, last = lines.total - f0, lines.counter
        el = time.monotonic() - t0
        row = {'rep': rep + 1, 'fps': round(shown / el, 1)}
        if first is not None and last is not None:
            row['guest_fps'] = round(((last - first) & 0xffff) / el, 1)
        for k, v in pids.items():
            row[f'cpu_{k}'] = round(100.0 * (benchvnc.cpu_ticks(int(v)) - c0[k]) / benchvnc.TICK / el, 1)
        if view:
            row['unreadable_pct'] = round(100.0 * torn / max(samples, 1), 1)
        row['client_peak_rss_MiB'] = round(benchvnc.rss_mib(int(pids['client'])), 1)
        rows.append(row)
        print('# ' + json.dumps(row), flush=True)
    med = {k: statistics.median(r[k] for r in rows if r.get(k) is not None)
           for k in rows[0] if k != 'rep' and any(r.get(k) is not None for r in rows)}
    med['label'] = a.label
    print('MEDIAN ' + json.dumps(med), flush=True)
    if a.results:
        with open(a.results, 'a') as f:
            f.write(json.dumps(med) + '\n')


if __name__ == '__main__':
    main()
