//! Event storm: on the private daemon, VMs without disks are defined, started,
//! destroyed and undefined at up to 100 libvirt calls (each one event) a second while
//! the window lists them. Starting a QEMU takes a few tenths of a second of CPU, so
//! two workers go the whole way (define, start, destroy, undefine) as fast as QEMU
//! allows and three more define and undefine VMs to fill the rest of the budget.
//!
//! After each minute the storm holds still, and the app's list must come to match
//! `virsh list --all` (how long that takes is a figure: the events still queued);
//! main-loop stalls and memory are read at the same moment.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vireo::virt::handles::release_connect;
use virt::connect::Connect;
use virt::domain::Domain;

use crate::churn::diskless_xml;
use crate::kit::binary::App;
use crate::kit::testbed::{daemon, SystemDaemon, DOMAIN_PREFIX};
use crate::measure::{
    alive, merge_stalls, mib, probe_report, proc_sample, run_dir, slope, stall_quantile,
    until_lists_match, virsh_listing,
};

const URI: &str = SystemDaemon::URI;
/// Calls (so events) a second, all workers together.
const RATE: u32 = 100;
/// VMs that stay defined all along, so that the list is not only the storm's.
const STEADY_VMS: usize = 20;
/// Workers that start and destroy their VMs too, and workers that only define and
/// undefine them.
const FULL_WORKERS: usize = 2;
const QUICK_WORKERS: usize = 3;

pub fn run() {
    let minutes = crate::length("SOAK_MINUTES", 1, 10);
    daemon();
    let dir = run_dir("storm");
    let conn = Connect::open(Some(URI)).expect("the private daemon");
    for i in 0..STEADY_VMS {
        let d = conn
            .define_domain_xml(&diskless_xml(&format!("{DOMAIN_PREFIX}-vm-{i:02}")))
            .expect("define");
        drop(d);
    }
    let probe = dir.join("probe.json");
    std::env::set_var("VIREO_PROBE", &probe);
    let app = App::launch(&["--connect", URI]);
    app.wait_ready();
    let pid = app.pid();
    // Forget the start-up's stalls.
    probe_report(pid, &probe);

    let storm = Storm::start();
    let started = Instant::now();
    // As seen, and the app's own (without the thread's waits for a CPU).
    let mut stalls = BTreeMap::new();
    let mut busy = BTreeMap::new();
    let mut memory = Vec::new();
    let mut mismatches = Vec::new();
    let mut before = storm.counts();
    println!(
        "\n| minute | calls | define | start | destroy | undefine | failed | listed | list matched after (s) | stall p99 (ms) | stall max (ms) | own stall p99 (ms) | own stall max (ms) | RSS (MiB) | PSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for minute in 1..=minutes {
        let mark = started + Duration::from_secs(60 * minute);
        while Instant::now() < mark {
            assert!(alive(pid), "vireo died; its output:\n{}", app.log());
            std::thread::sleep(Duration::from_millis(200));
        }
        if minute == 1 {
            app.screenshot("soak-storm.png");
        }
        storm.hold();
        let report = probe_report(pid, &probe);
        let sample = proc_sample(pid).expect("vireo runs");
        let mut minute_stalls = BTreeMap::new();
        let mut minute_busy = BTreeMap::new();
        merge_stalls(&mut minute_stalls, &report, "stalls");
        merge_stalls(&mut minute_busy, &report, "busy_stalls");
        merge_stalls(&mut stalls, &report, "stalls");
        merge_stalls(&mut busy, &report, "busy_stalls");
        memory.push((minute as f64, sample));
        let listed = virsh_listing(URI).map(|l| l.len()).unwrap_or(0);
        let matched = match until_lists_match(pid, &probe, URI, Duration::from_secs(60)) {
            Ok((_, d)) => format!("{:.2}", d.as_secs_f64()),
            Err(diff) => {
                mismatches.push((minute, diff));
                "never".to_owned()
            }
        };
        let now = storm.counts();
        let delta: Vec<u64> = now.iter().zip(&before).map(|(a, b)| a - b).collect();
        before = now;
        println!(
            "| {minute} | {} | {} | {} | {} | {} | {} | {listed} | {matched} | {} | {:.0} | {} | {:.0} | {:.1} | {:.1} |",
            delta[..4].iter().sum::<u64>(),
            delta[0],
            delta[1],
            delta[2],
            delta[3],
            delta[4],
            stall_quantile(&minute_stalls, 0.99),
            report["stalls"]["since_report"]["max_ms"].as_f64().unwrap_or(0.0),
            stall_quantile(&minute_busy, 0.99),
            report["busy_stalls"]["since_report"]["max_ms"].as_f64().unwrap_or(0.0),
            mib(sample.rss_kib),
            mib(sample.pss_kib)
        );
        // The waiting for the list is not the storm's: start the next minute afresh.
        probe_report(pid, &probe);
        storm.resume();
    }
    let totals = storm.stop();
    let secs = 60.0 * minutes as f64;
    let max_ms = |h: &BTreeMap<u64, u64>| h.keys().next_back().map_or(0, |ms| ms + 1);
    let after_first: Vec<(f64, f64)> = memory
        .iter()
        .skip(1)
        .map(|(m, s)| (*m, mib(s.rss_kib)))
        .collect();
    let pss_after_first: Vec<(f64, f64)> = memory
        .iter()
        .skip(1)
        .map(|(m, s)| (*m, mib(s.pss_kib)))
        .collect();
    println!(
        "\nstorm: {} calls in {minutes} min ({:.1}/s: {} define, {} start, {} destroy, {} \
         undefine, {} failed); main-loop stalls over the storm: p50 {} ms, p99 {} ms, p99.9 {} \
         ms, max {} ms ({} beats); without the main thread's waits for a CPU (the app's own): \
         p99 {} ms, p99.9 {} ms, max {} ms; memory slope after the first minute: RSS {:+.2} \
         MiB/min, PSS {:+.2} MiB/min; lists matching libvirt after each minute: {}/{minutes}",
        totals[..4].iter().sum::<u64>(),
        totals[..4].iter().sum::<u64>() as f64 / secs,
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        totals[4],
        stall_quantile(&stalls, 0.5),
        stall_quantile(&stalls, 0.99),
        stall_quantile(&stalls, 0.999),
        max_ms(&stalls),
        stalls.values().sum::<u64>(),
        stall_quantile(&busy, 0.99),
        stall_quantile(&busy, 0.999),
        max_ms(&busy),
        slope(&after_first),
        slope(&pss_after_first),
        minutes as usize - mismatches.len()
    );
    app.quit();
    release_connect(conn);
    assert!(
        mismatches.is_empty(),
        "the list differed from libvirt: {mismatches:?}"
    );
}

/// What the workers share: the pace, the hold, the counts.
struct Shared {
    /// When the next call may go (a token bucket of `RATE` a second).
    next: Mutex<Instant>,
    hold: AtomicBool,
    stop: AtomicBool,
    /// Workers waiting at the hold.
    held: AtomicUsize,
    /// define, start, destroy, undefine, failed.
    counts: [AtomicU64; 5],
}

struct Storm {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Storm {
    fn start() -> Storm {
        let shared = Arc::new(Shared {
            next: Mutex::new(Instant::now()),
            hold: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            held: AtomicUsize::new(0),
            counts: Default::default(),
        });
        let workers = (0..FULL_WORKERS + QUICK_WORKERS)
            .map(|w| {
                let shared = shared.clone();
                std::thread::spawn(move || worker(w, w < FULL_WORKERS, &shared))
            })
            .collect();
        Storm { shared, workers }
    }

    fn counts(&self) -> Vec<u64> {
        self.shared
            .counts
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect()
    }

    /// Returns once every worker waits between two calls.
    fn hold(&self) {
        self.shared.hold.store(true, Ordering::SeqCst);
        while self.shared.held.load(Ordering::SeqCst) < self.workers.len() {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn resume(&self) {
        *self.shared.next.lock().unwrap() = Instant::now();
        self.shared.hold.store(false, Ordering::SeqCst);
    }

    /// Ends the storm (each worker removes what it made); returns the counts.
    fn stop(self) -> Vec<u64> {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.hold.store(false, Ordering::SeqCst);
        for w in self.workers {
            let _ = w.join();
        }
        self.shared
            .counts
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect()
    }
}

impl Shared {
    /// Waits for the hold to lift and for the call's turn; false when stopping.
    fn turn(&self) -> bool {
        if self.hold.load(Ordering::SeqCst) {
            self.held.fetch_add(1, Ordering::SeqCst);
            while self.hold.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.held.fetch_sub(1, Ordering::SeqCst);
        }
        if self.stop.load(Ordering::SeqCst) {
            return false;
        }
        let at = {
            let mut next = self.next.lock().unwrap();
            let at = (*next).max(Instant::now());
            *next = at + Duration::from_secs(1) / RATE;
            at
        };
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        true
    }

    fn count(&self, what: usize, ok: bool) {
        self.counts[if ok { what } else { 4 }].fetch_add(1, Ordering::SeqCst);
    }
}

/// One worker: VMs of its own, one after another, `full` ones started and destroyed
/// too.
fn worker(index: usize, full: bool, shared: &Shared) {
    let conn = Connect::open(Some(URI)).expect("the private daemon");
    let mut n = 0u64;
    let mut current: Option<Domain> = None;
    loop {
        if current.is_none() {
            if !shared.turn() {
                break;
            }
            n += 1;
            let name = format!("{DOMAIN_PREFIX}-storm-{index}-{n}");
            let d = conn.define_domain_xml(&diskless_xml(&name));
            shared.count(0, d.is_ok());
            current = d.ok();
            continue;
        }
        let d = current.take().expect("a VM");
        if full {
            if !shared.turn() {
                current = Some(d);
                break;
            }
            let started = d.create();
            shared.count(1, started.is_ok());
            if started.is_ok() {
                if !shared.turn() {
                    current = Some(d);
                    break;
                }
                shared.count(2, d.destroy().is_ok());
            }
        }
        if !shared.turn() {
            current = Some(d);
            break;
        }
        shared.count(3, d.undefine().is_ok());
    }
    // What the storm leaves behind goes, outside the count.
    if let Some(d) = current {
        let _ = d.destroy();
        let _ = d.undefine();
    }
    release_connect(conn);
}
