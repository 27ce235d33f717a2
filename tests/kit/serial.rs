//! The serial console widget on a real guest, as its tests and benchmark use it: a
//! bed (a connection, a guest domain and the widget in a window, all removed on drop),
//! the flood check (megabytes from the guest arrive intact while the main loop keeps
//! turning) with its stall meter, and small helpers.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;
use vireo::model::{ConnectionObject, DomainAction, DomainObject};
use vireo::ui::console::SerialConsole;
use vireo::virt::handles::{release_connect, DomainRef};
use vte4::TerminalExt;

use super::model;
use super::testbed::{Boot, Guest, PROMPT, READY_LINE};
use super::wait::{block_on, pump, wait_until, BOOT, EVENT};

/// A connection, a defined domain and the widget in a window. Dropping it destroys and
/// undefines the domain (also when the test panicked).
pub struct Bed {
    pub connection: ConnectionObject,
    pub domain: DomainObject,
    pub console: SerialConsole,
    pub window: gtk::Window,
    /// Everything the stream delivered, as the terminal got it.
    pub tapped: Rc<RefCell<Vec<u8>>>,
}

impl Bed {
    pub fn new(uri: &str, name: &str) -> Bed {
        Bed::with_xml(uri, name, |xml| xml)
    }

    /// A bed whose domain XML `edit` changed.
    pub fn with_xml(uri: &str, name: &str, edit: impl FnOnce(String) -> String) -> Bed {
        // The whole flood must fit in the scrollback to be checked there.
        vireo::settings::settings()
            .set_int("terminal-scrollback", 200_000)
            .expect("scrollback setting");
        let connection = model::connect(uri);
        connection.set_stats_interval(0);
        let guest = Guest::get().expect("guest");
        let domain = model::define(
            &connection,
            edit(guest.domain_xml(name, Boot::Kernel, None)),
        );
        let console = SerialConsole::new();
        let tapped = Rc::new(RefCell::new(Vec::new()));
        let t = tapped.clone();
        console.connect_output(move |bytes| t.borrow_mut().extend_from_slice(bytes));
        let window = gtk::Window::new();
        window.set_default_size(1000, 700);
        window.set_child(Some(&console));
        window.present();
        Bed {
            connection,
            domain,
            console,
            window,
            tapped,
        }
    }

    pub fn start(&self) {
        model::start(&self.connection, &self.domain);
    }

    /// The stream's bytes as text, carriage returns dropped.
    pub fn tapped_text(&self) -> String {
        String::from_utf8_lossy(&self.tapped.borrow()).replace('\r', "")
    }

    pub fn count_tapped(&self, line: &str) -> usize {
        self.tapped_text()
            .lines()
            .filter(|l| l.trim_end() == line)
            .count()
    }

    /// Lines of the terminal's own text equal to `line`.
    pub fn count_screen(&self, line: &str) -> usize {
        self.console
            .text()
            .lines()
            .filter(|l| l.trim_end() == line)
            .count()
    }

    pub fn wait_ready(&self, n: usize) {
        let t = Instant::now();
        let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(&format!("{READY_LINE} x{n} from the stream"), BOOT, || {
                self.count_tapped(READY_LINE) >= n
            })
        }));
        if let Err(panic) = seen {
            // What the console got and says, for the one who reads the failure.
            let text = self.tapped_text();
            let tail: String = text.chars().rev().take(600).collect();
            eprintln!(
                "the console: {:?} ({}); {} bytes from the stream, ending: {:?}",
                self.console.status(),
                self.console.status_text(),
                text.len(),
                tail.chars().rev().collect::<String>()
            );
            std::panic::resume_unwind(panic);
        }
        // The terminal parses fed bytes on its own idle: give it a moment.
        wait_until(&format!("{READY_LINE} x{n} in the terminal"), EVENT, || {
            self.count_screen(READY_LINE) >= n
        });
        let since = self.tapped.borrow().len().saturating_sub(4096);
        wait_until("the shell prompt", EVENT, || {
            String::from_utf8_lossy(&self.tapped.borrow()[since..]).contains(PROMPT)
        });
        self.until_shell_answers();
        println!(
            "  {READY_LINE} x{n} after {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }

    /// Waits until the guest's shell runs what is typed. It prints its prompt a moment
    /// before its tty reads input, and bytes typed in that moment were seen to be
    /// dropped under load (a CI run lost half of the flood test's command), so a probe
    /// command is typed until its answer comes back.
    fn until_shell_answers(&self) {
        for attempt in 1..=20 {
            // The answer is built by the shell, so that the echoed line does not have it.
            let answer = format!("SY-NC-{attempt}");
            self.type_text(&format!("M=SY; echo $M-NC-{attempt}\r"));
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end {
                if self.tapped_text().contains(&answer) {
                    return;
                }
                pump(Duration::from_millis(50));
            }
        }
        panic!("the guest's shell never answered a typed command");
    }

    /// Types `text` as the person would: through VTE's input path (commit signal).
    pub fn type_text(&self, text: &str) {
        self.console.terminal().feed_child(text.as_bytes());
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        self.console.detach();
        let _ = block_on(
            self.connection
                .run_action(&self.domain, DomainAction::ForceOff),
        );
        let _ = block_on(self.connection.run_action(
            &self.domain,
            DomainAction::Delete {
                remove_storage: vec![],
            },
        ));
        self.window.destroy();
        self.connection.close();
        pump(Duration::from_millis(50));
    }
}

pub fn random_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("vireo-{:08x}", nanos ^ std::process::id().rotate_left(16))
}

/// Runs a libvirt call on the domain from a new thread with its own connection reference.
pub fn other_thread(c: &ConnectionObject, uuid: &str, f: fn(virt::sys::virDomainPtr) -> i32) {
    let conn = c.raw().expect("connection");
    let uuid = uuid.to_owned();
    let r = std::thread::spawn(move || {
        let dom = DomainRef::lookup_uuid(&conn, &uuid).map_err(|e| e.to_string());
        let r = dom.map(|d| f(d.as_ptr()));
        release_connect(conn);
        r
    })
    .join()
    .expect("thread");
    assert_eq!(r, Ok(0), "libvirt call from another thread");
}

/// The longest gaps between frame-clock ticks and between runs of a 5 ms timer.
pub struct StallMeter {
    tick: Option<gtk::TickCallbackId>,
    timer: Option<glib::SourceId>,
    frames: Rc<Cell<(Option<i64>, i64, u64)>>,
    loop_gaps: Rc<Cell<LoopGaps>>,
}

/// What a [`StallMeter`] saw.
#[derive(Clone, Copy, Debug)]
pub struct Stalls {
    /// The longest gap between two frame-clock ticks, in s.
    pub frame_gap: f64,
    /// The longest gap between two runs of the 5 ms timer, in s.
    pub loop_gap: f64,
    /// That gap less the time the main thread waited for a CPU in it (the kernel's
    /// schedstat): the stall that is the app's own, not the machine's load.
    pub own_loop_gap: f64,
    pub frames: u64,
}

#[derive(Clone, Copy)]
struct LoopGaps {
    last: Instant,
    last_wait: Duration,
    longest: f64,
    longest_own: f64,
}

/// The main thread's total time runnable but waiting for a CPU (`run_ns wait_ns slices`).
fn cpu_wait() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

impl StallMeter {
    pub fn start(widget: &SerialConsole) -> StallMeter {
        let frames = Rc::new(Cell::new((None, 0i64, 0u64)));
        let f = frames.clone();
        let tick = widget.add_tick_callback(move |w, clock| {
            let now = clock.frame_time();
            let (last, gap, n) = f.get();
            let gap = last.map_or(gap, |l| gap.max(now - l));
            f.set((Some(now), gap, n + 1));
            w.queue_draw();
            glib::ControlFlow::Continue
        });
        let loop_gaps = Rc::new(Cell::new(LoopGaps {
            last: Instant::now(),
            last_wait: cpu_wait(),
            longest: 0.0,
            longest_own: 0.0,
        }));
        let l = loop_gaps.clone();
        let timer = glib::timeout_add_local(Duration::from_millis(5), move || {
            let g = l.get();
            let wait = cpu_wait();
            let gap = g.last.elapsed().as_secs_f64();
            let own = (gap - wait.saturating_sub(g.last_wait).as_secs_f64()).max(0.0);
            l.set(LoopGaps {
                last: Instant::now(),
                last_wait: wait,
                longest: g.longest.max(gap),
                longest_own: g.longest_own.max(own),
            });
            glib::ControlFlow::Continue
        });
        StallMeter {
            tick: Some(tick),
            timer: Some(timer),
            frames,
            loop_gaps,
        }
    }

    pub fn stop(mut self) -> Stalls {
        if let Some(t) = self.tick.take() {
            t.remove();
        }
        if let Some(t) = self.timer.take() {
            t.remove();
        }
        let (_, gap, frames) = self.frames.get();
        let loops = self.loop_gaps.get();
        Stalls {
            frame_gap: gap as f64 / 1e6,
            loop_gap: loops.longest,
            own_loop_gap: loops.longest_own,
            frames,
        }
    }
}

/// The flood's end marker line as the guest's tty sends it.
const FLOOD_END: &[u8] = b"\nFLOOD-END\r\n";

/// `bytes` as text up to its last line end: the lines that have arrived whole.
fn whole_lines(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let a = text.find(start)? + start.len();
    let b = text[a..].find(end)? + a;
    Some(&text[a..b])
}

/// The md5 of `data` by the host's md5sum (no hashing crate needed).
pub fn md5(data: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("md5sum");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().expect("md5sum output");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Has the guest write `raw_bytes` of random data, base64-encoded, to its console and
/// checks that the stream and the terminal got it intact (the guest's md5sum) while the
/// main loop and the frame clock kept turning. Returns the throughput in MiB/s.
pub fn flood_check(bed: &Bed, raw_bytes: usize) -> f64 {
    // Prepare the data, and the guest's checksum of it, before timing. base64 makes 4
    // characters of every 3 bytes (plus line ends): a shorter file means the typed
    // command lost characters on its way into the guest, and it is typed again.
    let least = raw_bytes.div_ceil(3) * 4;
    let mut attempt = 0;
    let (guest_md5, size) = loop {
        attempt += 1;
        let from = bed.tapped.borrow().len();
        bed.type_text(&format!(
            "head -c {raw_bytes} /dev/urandom | base64 > /tmp/b; md5sum /tmp/b; echo SIZE=$(wc -c < /tmp/b)\r"
        ));
        // Only whole answer lines count: the shell's echo of the long command line may
        // wrap anywhere, "SIZE=$(wc" at the start of a line included, and the stream
        // hands over whatever the serial port has sent so far ("SIZE=13" of
        // "SIZE=1398102"), so a line counts once its line end is there.
        let answer = || whole_lines(&bed.tapped.borrow()[from..]);
        let guest_md5 = wait_until("the guest's md5sum", Duration::from_secs(60), || {
            answer().lines().find_map(|l| {
                let (sum, file) = l.trim_end().split_once("  ")?;
                (file == "/tmp/b" && sum.len() == 32 && sum.chars().all(|c| c.is_ascii_hexdigit()))
                    .then(|| sum.to_owned())
            })
        });
        let size: usize = wait_until("the size", EVENT, || {
            answer()
                .lines()
                .find_map(|l| l.trim_end().strip_prefix("SIZE=")?.parse().ok())
        });
        if size >= least || attempt == 3 {
            break (guest_md5, size);
        }
        println!("  guest file: {size} bytes, fewer than {least}: typing the command again");
    };
    println!("  guest file: {size} bytes, md5 {guest_md5}");

    let meter = StallMeter::start(&bed.console);
    let before = bed.tapped.borrow().len();
    let t = Instant::now();
    // The markers are built by the shell so that the echoed command line has neither.
    bed.type_text("M=FLOOD; echo $M-BEGIN; cat /tmp/b; echo $M-END\r");
    // Only the new bytes are scanned at each turn, so that the test's own work does
    // not count as a stall. The end marker counts with its line end: the guest's tty
    // sends "\r\n" for it, byte by byte through the serial port, and the stream may
    // hand over the "\r" in one piece and the "\n" in the next (through the daemon, 43
    // of 2172 pieces of a flood ended in "\r"): stopping between them left no whole
    // "FLOOD-END" line to find ("markers" failures of serial_remote).
    let mut scanned = before;
    wait_until(
        "the end marker from the stream",
        Duration::from_secs(400),
        || {
            let tapped = bed.tapped.borrow();
            let from = scanned.saturating_sub(16);
            scanned = tapped.len();
            tapped[from..]
                .windows(FLOOD_END.len())
                .any(|w| w == FLOOD_END)
        },
    );
    let secs = t.elapsed().as_secs_f64();
    let stalls = meter.stop();
    println!(
        "  {size} bytes in {secs:.1} s = {:.3} MiB/s; frames {}, longest frame gap {:.0} ms, longest main-loop gap {:.0} ms ({:.0} ms of it the app's own, the rest waiting for a CPU)",
        size as f64 / secs / 1048576.0,
        stalls.frames,
        stalls.frame_gap * 1e3,
        stalls.loop_gap * 1e3,
        stalls.own_loop_gap * 1e3
    );
    let stream_text = String::from_utf8_lossy(&bed.tapped.borrow()[before..]).replace('\r', "");
    let payload = between(&stream_text, "\nFLOOD-BEGIN\n", "FLOOD-END\n").unwrap_or_else(|| {
        let head: String = stream_text.chars().take(300).collect();
        let tail: String = stream_text.chars().rev().take(300).collect();
        let tail: String = tail.chars().rev().collect();
        panic!("markers in the stream's text: begins {head:?}, ends {tail:?}")
    });
    assert_eq!(payload.len(), size, "every byte arrived");
    assert_eq!(
        md5(payload.as_bytes()),
        guest_md5,
        "the stream's bytes are intact"
    );
    wait_until("the end marker in the terminal", EVENT, || {
        bed.count_screen("FLOOD-END") >= 1
    });
    let screen = bed.console.text();
    let shown = between(&screen, "\nFLOOD-BEGIN\n", "FLOOD-END\n").expect("markers on screen");
    assert_eq!(
        md5(shown.as_bytes()),
        guest_md5,
        "the terminal shows the bytes intact"
    );
    // A loaded machine (CI beside other builds) keeps the main thread waiting for a
    // CPU for most of a second at times; only the app's own share is held against it.
    assert!(
        stalls.frames > 10,
        "the frame clock kept ticking ({} frames)",
        stalls.frames
    );
    assert!(
        stalls.own_loop_gap < 0.5,
        "the main loop never stalled half a second by its own work ({:.3} s; {:.3} s with waiting for a CPU)",
        stalls.own_loop_gap,
        stalls.loop_gap
    );
    size as f64 / secs / 1048576.0
}
