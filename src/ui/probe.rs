//! A diagnostics probe for soak and scale runs (`tools/soak/`), off unless the
//! environment variable `VIREO_PROBE` names a file. Then:
//!
//! - a heartbeat runs on the main loop every 10 ms (`VIREO_PROBE_BEAT_MS` changes that;
//!   0 turns it off, for idle-CPU figures); how late it runs is how long the loop could
//!   not attend to anything (input, drawing, events): the stall. On a busy machine
//!   part of that is the thread waiting for a CPU; the kernel counts that wait
//!   (`/proc/thread-self/schedstat`), and the stall without it is the app's own
//!   (`busy_stalls`);
//! - on `SIGUSR1` the app writes a JSON report to that file (atomically: a reader sees
//!   the whole report or the previous one): the rows the window's list shows, read
//!   from the list view's own model in the order it shows them (each host's header,
//!   then its VMs with their state), the stalls since the previous report and since
//!   start, and what collecting stats cost each connection.
//!
//! It measures from inside what an outside reader cannot see; memory and CPU are read
//! from `/proc` by the harness. Nothing here changes what the app does.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;
use serde_json::{json, Value};

use super::formatting::state_text;
use crate::application::VireoApplication;
use crate::model::{ConnectionObject, DomainObject, DomainState};
use crate::ui::VireoWindow;

/// The environment variable that turns the probe on and names its report file.
pub const ENV: &str = "VIREO_PROBE";

/// The variable that sets the heartbeat's period in ms (0: no heartbeat).
pub const BEAT_ENV: &str = "VIREO_PROBE_BEAT_MS";

/// How often the heartbeat is due unless `VIREO_PROBE_BEAT_MS` says otherwise.
const DEFAULT_BEAT_MS: u64 = 10;

/// Stalls are counted in 1 ms buckets up to this; longer ones share the last bucket
/// (their maximum is kept exactly).
const HISTOGRAM_MS: usize = 2000;

/// A histogram of how late the heartbeat ran.
struct Stalls {
    buckets: Vec<u64>,
    beats: u64,
    max: Duration,
}

impl Stalls {
    fn new() -> Self {
        Stalls {
            buckets: vec![0; HISTOGRAM_MS + 1],
            beats: 0,
            max: Duration::ZERO,
        }
    }

    fn record(&mut self, late: Duration) {
        let ms = (late.as_millis() as usize).min(HISTOGRAM_MS);
        self.buckets[ms] += 1;
        self.beats += 1;
        self.max = self.max.max(late);
    }

    /// The smallest whole number of ms that `q` of the beats were at most late by.
    fn quantile_ms(&self, q: f64) -> u64 {
        let wanted = (self.beats as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= wanted.max(1) {
                if ms == HISTOGRAM_MS {
                    // The last bucket holds every longer stall: only the maximum
                    // bounds it.
                    return self.max.as_millis().max(ms as u128) as u64 + 1;
                }
                // A beat in bucket `ms` was late by less than ms + 1.
                return ms as u64 + 1;
            }
        }
        self.max.as_millis() as u64 + 1
    }

    fn over(&self, ms: usize) -> u64 {
        self.buckets[ms.min(HISTOGRAM_MS)..].iter().sum()
    }

    fn to_json(&self) -> Value {
        json!({
            "beats": self.beats,
            "p50_ms": self.quantile_ms(0.50),
            "p99_ms": self.quantile_ms(0.99),
            "p999_ms": self.quantile_ms(0.999),
            "max_ms": self.max.as_secs_f64() * 1000.0,
            "over_50ms": self.over(50),
            "over_100ms": self.over(100),
            "over_250ms": self.over(250),
            // [ms, beats] for every 1 ms bucket used, so that reports can be merged.
            "buckets": self
                .buckets
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(ms, n)| [ms as u64, *n])
                .collect::<Vec<_>>(),
        })
    }
}

/// Stalls as seen, and without the time the thread waited for a CPU.
struct Beats {
    seen: Stalls,
    busy: Stalls,
}

impl Beats {
    fn new() -> Self {
        Beats {
            seen: Stalls::new(),
            busy: Stalls::new(),
        }
    }
}

struct Probe {
    path: PathBuf,
    started: Instant,
    since_start: Beats,
    since_report: Beats,
    reports: u64,
}

/// The calling thread's total time spent runnable but waiting for a CPU, from the
/// kernel's scheduler statistics (`run_ns wait_ns slices`).
struct CpuWait(Option<std::fs::File>);

impl CpuWait {
    fn of_this_thread() -> Self {
        CpuWait(std::fs::File::open("/proc/thread-self/schedstat").ok())
    }

    fn total(&self) -> Option<Duration> {
        use std::os::unix::fs::FileExt;
        let mut buf = [0u8; 96];
        let n = self.0.as_ref()?.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let ns = text.split_whitespace().nth(1)?.parse().ok()?;
        Some(Duration::from_nanos(ns))
    }
}

/// Installs the probe when `VIREO_PROBE` is set (see the module's text).
pub fn install_from_env(app: &VireoApplication) {
    if let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
        install(app, PathBuf::from(path));
    }
}

fn install(app: &VireoApplication, path: PathBuf) {
    let beat_ms = std::env::var(BEAT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BEAT_MS);
    tracing::info!(
        "diagnostics probe on: heartbeat every {beat_ms} ms, report to {} on SIGUSR1",
        path.display()
    );
    let probe = Rc::new(RefCell::new(Probe {
        path,
        started: Instant::now(),
        since_start: Beats::new(),
        since_report: Beats::new(),
        reports: 0,
    }));

    if beat_ms > 0 {
        let beat = Duration::from_millis(beat_ms);
        let beats = probe.clone();
        let cpu_wait = CpuWait::of_this_thread();
        let mut last = Instant::now();
        let mut waited_before = cpu_wait.total().unwrap_or_default();
        glib::timeout_add_local(beat, move || {
            let now = Instant::now();
            let late = now.saturating_duration_since(last + beat);
            last = now;
            let waited_now = cpu_wait.total().unwrap_or_default();
            let busy = late.saturating_sub(waited_now.saturating_sub(waited_before));
            waited_before = waited_now;
            let mut p = beats.borrow_mut();
            let p = &mut *p;
            for b in [&mut p.since_start, &mut p.since_report] {
                b.seen.record(late);
                b.busy.record(busy);
            }
            glib::ControlFlow::Continue
        });
    }

    let app = app.downgrade();
    glib::unix_signal_add_local(libc::SIGUSR1, move || {
        if let Some(app) = app.upgrade() {
            let mut p = probe.borrow_mut();
            p.reports += 1;
            let report = report(&app, &p);
            p.since_report = Beats::new();
            if let Err(e) = write_atomically(&p.path, &report) {
                tracing::warn!(path = %p.path.display(), error = %e, "probe report not written");
            }
        }
        glib::ControlFlow::Continue
    });
}

fn report(app: &VireoApplication, p: &Probe) -> Value {
    let stats: Vec<Value> = app
        .connections()
        .iter::<ConnectionObject>()
        .flatten()
        .map(|c| {
            let cost = c.stats_cost();
            json!({
                "uri": c.uri(),
                "ticks": cost.ticks,
                "worker_ms": cost.worker.as_secs_f64() * 1000.0,
                "main_ms": cost.main_thread.as_secs_f64() * 1000.0,
                "interval_ms": c.stats_effective_interval(),
            })
        })
        .collect();
    json!({
        "report": p.reports,
        "uptime_s": p.started.elapsed().as_secs_f64(),
        "hosts": shown_rows(app),
        "stalls": {
            "since_report": p.since_report.seen.to_json(),
            "since_start": p.since_start.seen.to_json(),
        },
        "busy_stalls": {
            "since_report": p.since_report.busy.to_json(),
            "since_start": p.since_start.busy.to_json(),
        },
        "stats": stats,
    })
}

/// The rows of the main window's list as its view has them: a host per header, with
/// the VMs under it.
fn shown_rows(app: &VireoApplication) -> Vec<Value> {
    let Some(window) = app
        .windows()
        .into_iter()
        .find_map(|w| w.downcast::<VireoWindow>().ok())
    else {
        return Vec::new();
    };
    let Some(model) = find_list_view(window.list().upcast_ref()).and_then(|v| v.model()) else {
        return Vec::new();
    };
    let mut hosts: Vec<Value> = Vec::new();
    let mut rows: Vec<Value> = Vec::new();
    let flush = |hosts: &mut Vec<Value>, rows: &mut Vec<Value>| {
        if let Some(host) = hosts.last_mut() {
            host["rows"] = Value::Array(std::mem::take(rows));
        }
    };
    for item in model.iter::<glib::Object>().flatten() {
        if let Some(c) = item.downcast_ref::<ConnectionObject>() {
            flush(&mut hosts, &mut rows);
            hosts.push(json!({
                "uri": c.uri(),
                "name": c.display_name(),
                "state": format!("{:?}", c.state()),
                "error": c.error(),
            }));
        } else if let Some(d) = item.downcast_ref::<DomainObject>() {
            rows.push(json!({
                "name": d.name(),
                "state": virsh_state(d.state()),
                "shown": state_text(d),
            }));
        }
    }
    flush(&mut hosts, &mut rows);
    hosts
}

fn find_list_view(widget: &gtk::Widget) -> Option<gtk::ListView> {
    if let Some(view) = widget.downcast_ref::<gtk::ListView>() {
        return Some(view.clone());
    }
    let mut child = widget.first_child();
    while let Some(c) = child {
        if let Some(view) = find_list_view(&c) {
            return Some(view);
        }
        child = c.next_sibling();
    }
    None
}

/// A state in `virsh list`'s words, so that a harness compares the two directly.
fn virsh_state(state: DomainState) -> &'static str {
    match state {
        DomainState::Running => "running",
        DomainState::Blocked => "idle",
        DomainState::Paused => "paused",
        DomainState::ShuttingDown => "in shutdown",
        DomainState::Shutoff => "shut off",
        DomainState::Crashed => "crashed",
        DomainState::PmSuspended => "pmsuspended",
        DomainState::NoState => "no state",
    }
}

fn write_atomically(path: &Path, report: &Value) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, serde_json::to_vec(report)?)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_quantiles() {
        let mut s = Stalls::new();
        for _ in 0..98 {
            s.record(Duration::from_micros(300));
        }
        s.record(Duration::from_millis(40));
        s.record(Duration::from_secs(5));
        assert_eq!(s.quantile_ms(0.5), 1);
        assert_eq!(s.quantile_ms(0.99), 41);
        assert_eq!(s.quantile_ms(1.0), 5001);
        assert_eq!(s.max, Duration::from_secs(5));
        assert_eq!(s.over(50), 1);
        assert_eq!(s.over(10), 2);
    }
}
