//! Serial console benchmark: guest -> screen throughput and main-loop stalls while a
//! real guest (QEMU TCG, embedded libvirt driver) floods ttyS0.
//!
//! For each bound on the bytes read per main-loop turn it floods 4 MiB of base64 text
//! (`cat` of a file made in the guest beforehand) and prints: stream throughput, time
//! until the last line is on the terminal's screen, frames drawn, the longest gap
//! between frames and between runs of a 5 ms timer, and the process's CPU time. A
//! baseline reader without GTK or VTE (libvirt stream into a Vec) shows what the guest
//! and QEMU deliver at most.
//!
//! Run: `tools/bench-serial.sh` (= `xvfb-run ... cargo bench --bench serial_console`).
//! Figures, not pass/fail. Needs root and QEMU.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

#[path = "../tests/kit/mod.rs"]
mod kit;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;
use kit::console::SerialConsole as GuestConsole;
use kit::model::{connect, define, start};
use kit::serial::StallMeter;
use kit::testbed::{self, embed_root, Boot, Guest, READY_LINE};
use kit::{block_on, wait_until};
use vireo::model::{ConnectionObject, DomainAction};
use vireo::ui::console::{SerialConsole, SerialStatus};
use vte4::TerminalExt;

const FLOOD_RAW_BYTES: usize = 3 * 1024 * 1024;

/// The process's user + system CPU seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// The CPU seconds of the QEMU processes of the embedded root (from their pid files).
fn qemu_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir(embed_root().dir.join("run/qemu")) else {
        return 0.0;
    };
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut total = 0.0;
    for e in entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pid"))
    {
        let pid = std::fs::read_to_string(e.path()).unwrap_or_default();
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        // Fields after the command name: utime and stime are the 12th and 13th.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<f64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() > 12 {
            total += (f[11] + f[12]) / ticks;
        }
    }
    total
}

/// The terminal's visible text (not the scrollback).
fn visible_text(t: &vte4::Terminal) -> String {
    use glib::translate::ToGlibPtr;
    // SAFETY: plain VTE call; the returned string is ours to free.
    unsafe {
        let p = vte4::ffi::vte_terminal_get_text(
            t.to_glib_none().0,
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if p.is_null() {
            return String::new();
        }
        let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
        glib::ffi::g_free(p.cast());
        s
    }
}

struct Figures {
    label: String,
    stream_mib_s: f64,
    screen_mib_s: f64,
    frames_per_s: f64,
    frame_gap_ms: f64,
    loop_gap_ms: f64,
    cpu_s_per_mib: f64,
    qemu_cpu_percent: f64,
    qemu_cpu_s_per_mib: f64,
}

fn flood_with_widget(
    console: &SerialConsole,
    tapped: &Rc<RefCell<Vec<u8>>>,
    max_per_turn: usize,
) -> Figures {
    console.set_max_bytes_per_turn(max_per_turn);
    let terminal = console.terminal();
    // Frame clock and a 5 ms timer measure what the person would see.
    let meter = StallMeter::start(console);
    let before = tapped.borrow().len();
    let (t, cpu, qemu) = (Instant::now(), cpu_seconds(), qemu_cpu_seconds());
    terminal.feed_child(b"M=FLOOD; echo $M-BEGIN; cat /tmp/b; echo $M-END\r");
    let mut scanned = before;
    wait_until("the flood's end", Duration::from_secs(600), || {
        let b = tapped.borrow();
        let from = scanned.saturating_sub(16);
        scanned = b.len();
        b[from..].windows(11).any(|w| w == b"\nFLOOD-END\r")
    });
    let stream_s = t.elapsed().as_secs_f64();
    let qemu = qemu_cpu_seconds() - qemu;
    wait_until("the flood's end on screen", Duration::from_secs(60), || {
        visible_text(&terminal)
            .lines()
            .any(|l| l.trim_end() == "FLOOD-END")
    });
    let screen_s = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let stalls = meter.stop();
    let bytes = (tapped.borrow().len() - before) as f64 / 1048576.0;
    Figures {
        label: format!("widget, {} KiB/turn", max_per_turn / 1024),
        stream_mib_s: bytes / stream_s,
        screen_mib_s: bytes / screen_s,
        frames_per_s: stalls.frames as f64 / screen_s,
        frame_gap_ms: stalls.frame_gap * 1e3,
        loop_gap_ms: stalls.loop_gap * 1e3,
        cpu_s_per_mib: cpu / bytes,
        qemu_cpu_percent: 100.0 * qemu / stream_s,
        qemu_cpu_s_per_mib: qemu / bytes,
    }
}

fn flood_baseline(c: &ConnectionObject, d: &vireo::model::DomainObject) -> Figures {
    let con = GuestConsole::of(c, d);
    let (t, cpu, qemu) = (Instant::now(), cpu_seconds(), qemu_cpu_seconds());
    con.send("M=FLOOD; echo $M-BEGIN; cat /tmp/b; echo $M-END\r")
        .expect("send");
    // Looking through the whole text is costly: only every 100 ms.
    let mut last = Instant::now();
    wait_until("the baseline flood's end", Duration::from_secs(600), || {
        if last.elapsed() < Duration::from_millis(100) {
            return false;
        }
        last = Instant::now();
        con.count_lines("FLOOD-END") >= 1
    });
    let secs = t.elapsed().as_secs_f64();
    let (cpu, qemu) = (cpu_seconds() - cpu, qemu_cpu_seconds() - qemu);
    let bytes = con.text().len() as f64 / 1048576.0;
    Figures {
        label: "baseline: stream -> Vec, no GTK".into(),
        stream_mib_s: bytes / secs,
        screen_mib_s: f64::NAN,
        frames_per_s: f64::NAN,
        frame_gap_ms: f64::NAN,
        loop_gap_ms: f64::NAN,
        cpu_s_per_mib: cpu / bytes,
        qemu_cpu_percent: 100.0 * qemu / secs,
        qemu_cpu_s_per_mib: qemu / bytes,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("serial_console bench: run it with `tools/bench-serial.sh` (cargo bench)");
        return;
    }
    if let Some(why) = testbed::missing(&[testbed::Need::Qemu, testbed::Need::Guest]) {
        eprintln!("serial bench: cannot run: {why}");
        std::process::exit(1);
    }
    let guest = Guest::get().expect("guest");
    let log = testbed::state_dir().join("bench-serial-libvirt.log");
    std::env::set_var("LIBVIRT_LOG_OUTPUTS", format!("3:file:{}", log.display()));
    std::env::set_var("GSETTINGS_BACKEND", "memory");
    vireo::resources::register();
    adw::init().expect("a display (run under xvfb-run)");
    vireo::settings::settings()
        .set_int("terminal-scrollback", 10_000)
        .expect("scrollback");
    vireo::model::init();
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("main context");
    let c = connect(&embed_root().uri());
    c.set_stats_interval(0);
    let d = define(
        &c,
        guest.domain_xml("vireo-test-bench-serial", Boot::Kernel, None),
    );
    start(&c, &d);

    let console = SerialConsole::new();
    let tapped = Rc::new(RefCell::new(Vec::new()));
    let t = tapped.clone();
    console.connect_output(move |b| t.borrow_mut().extend_from_slice(b));
    let window = gtk::Window::new();
    window.set_default_size(1000, 700);
    window.set_child(Some(&console));
    window.present();
    console.set_domain(Some(&d));
    let text = |t: &Rc<RefCell<Vec<u8>>>| String::from_utf8_lossy(&t.borrow()).replace('\r', "");
    wait_until(
        "the guest ready on the console",
        Duration::from_secs(120),
        || console.status() == SerialStatus::Connected && text(&tapped).contains(READY_LINE),
    );
    console.terminal().feed_child(
        format!("head -c {FLOOD_RAW_BYTES} /dev/urandom | base64 > /tmp/b; echo SIZE=$(wc -c < /tmp/b)\r")
            .as_bytes(),
    );
    wait_until(
        "the flood's file in the guest",
        Duration::from_secs(60),
        || text(&tapped).contains("\nSIZE="),
    );

    let mut rows = Vec::new();
    for max in [4 * 1024, 64 * 1024, 1024 * 1024] {
        rows.push(flood_with_widget(&console, &tapped, max));
    }
    console.detach();
    rows.push(flood_baseline(&c, &d));

    println!(
        "\nGSK_RENDERER={}",
        std::env::var("GSK_RENDERER").unwrap_or_else(|_| "(default)".into())
    );
    println!("serial console flood: 4 MiB of base64 text from the guest's ttyS0 (TCG)");
    println!(
        "{:<34} {:>10} {:>10} {:>8} {:>10} {:>10} {:>9} {:>7} {:>9}",
        "reader", "stream", "screen", "fps", "max frame", "max loop", "CPU s", "QEMU", "QEMU s"
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8} {:>10} {:>10} {:>9} {:>7} {:>9}",
        "", "MiB/s", "MiB/s", "", "gap ms", "gap ms", "per MiB", "CPU %", "per MiB"
    );
    for r in &rows {
        println!(
            "{:<34} {:>10.3} {:>10.3} {:>8.1} {:>10.0} {:>10.0} {:>9.2} {:>7.0} {:>9.2}",
            r.label,
            r.stream_mib_s,
            r.screen_mib_s,
            r.frames_per_s,
            r.frame_gap_ms,
            r.loop_gap_ms,
            r.cpu_s_per_mib,
            r.qemu_cpu_percent,
            r.qemu_cpu_s_per_mib
        );
    }
    // QEMU's CPU per MiB does not depend on the machine's load: at one full core
    // (TCG runs the guest's vCPU on one thread), the guest cannot send faster than this.
    if let Some(best) = rows
        .iter()
        .map(|r| r.qemu_cpu_s_per_mib)
        .filter(|v| v.is_finite() && *v > 0.0)
        .reduce(f64::min)
    {
        println!(
            "\nbound: QEMU spends {best:.2} CPU s per MiB of console output (one TCG vCPU \
             thread): at most {:.2} MiB/s with a whole core. Load average: {}",
            1.0 / best,
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
    }

    let _ = block_on(c.run_action(&d, DomainAction::ForceOff));
    let _ = block_on(c.run_action(
        &d,
        DomainAction::Delete {
            remove_storage: vec![],
        },
    ));
    window.destroy();
    c.close();
    kit::pump(Duration::from_millis(50));
    // Kills what the embedded driver left running and removes its root.
    kit::runner::cleanup();
}
