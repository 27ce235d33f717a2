//! What the soak runs read from outside the app: `/proc` (CPU, RSS, PSS), the probe's
//! reports (`src/ui/probe.rs`: the rows the list shows, main-loop stalls, stats cost),
//! `virsh list --all`, and the figures made from them.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::kit::testbed::run;
use crate::kit::wait_until;

/// Memory and CPU of a process, from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    pub rss_kib: u64,
    pub pss_kib: u64,
    /// The peak RSS so far (VmHWM).
    pub hwm_kib: u64,
    /// utime + stime of the process and its threads, in seconds.
    pub cpu_s: f64,
    pub threads: u64,
}

fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Reads `pid`'s figures; `None` once it has gone.
pub fn proc_sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: state is the first.
    let after = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ProcSample {
        rss_kib: status_field(&status, "VmRSS"),
        pss_kib: status_field(&rollup, "Pss"),
        hwm_kib: status_field(&status, "VmHWM"),
        cpu_s: cpu / ticks,
        threads: status_field(&status, "Threads"),
    })
}

/// True while `pid` runs (not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(") ")?.1.chars().next()? != 'Z'))
        .unwrap_or(false)
}

/// Whole-machine busy share (all cores) between two reads of `/proc/stat`: the noise
/// the other processes make while we measure.
pub struct MachineLoad {
    busy: u64,
    total: u64,
}

impl MachineLoad {
    pub fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let v: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let get = |i: usize| v.get(i).copied().unwrap_or(0);
        let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
        MachineLoad {
            busy,
            total: busy + get(3) + get(4),
        }
    }

    /// Percent of all cores busy since `self`.
    pub fn busy_pct_since(&self) -> f64 {
        let now = Self::now();
        let total = now.total.saturating_sub(self.total).max(1);
        now.busy.saturating_sub(self.busy) as f64 * 100.0 / total as f64
    }
}

/// Asks the app (`pid`, started with `VIREO_PROBE=path`) for a report and reads it.
pub fn probe_report(pid: u32, path: &Path) -> Value {
    let _ = std::fs::remove_file(path);
    // SAFETY: kill(2) of the app this run started.
    unsafe { libc::kill(pid as i32, libc::SIGUSR1) };
    wait_until("the probe's report", Duration::from_secs(60), || {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    })
}

/// One VM as a list shows it: name -> state in virsh's words.
pub type Listing = BTreeMap<String, String>;

/// The rows the app's list shows under the host `uri`, from a probe report.
pub fn app_listing(report: &Value, uri: &str) -> Option<Listing> {
    let host = report["hosts"]
        .as_array()?
        .iter()
        .find(|h| h["uri"] == uri)?;
    Some(
        host["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_owned(),
                    r["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    )
}

/// The host's state as its header shows it ("Connected", "Lost"...).
pub fn app_host_state(report: &Value, uri: &str) -> Option<String> {
    report["hosts"]
        .as_array()?
        .iter()
        .find(|h| h["uri"] == uri)
        .and_then(|h| h["state"].as_str().map(str::to_owned))
}

/// `virsh -c URI list --all` as name -> state.
pub fn virsh_listing(uri: &str) -> Result<Listing, String> {
    let out = run(std::process::Command::new("virsh").args(["-c", uri, "list", "--all"]));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    // " Id   Name   State" / "------" / " 1    vm     running" / " -    vm2    shut off"
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let _id = words.next()?;
            let name = words.next()?.to_owned();
            let state = words.collect::<Vec<_>>().join(" ");
            Some((name, state))
        })
        .collect())
}

/// How two listings differ: VMs missing from the app, ghosts in it, states that differ.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Diff {
    pub missing: Vec<String>,
    pub ghosts: Vec<String>,
    pub wrong_state: Vec<String>,
}

impl Diff {
    pub fn of(app: &Listing, libvirt: &Listing) -> Diff {
        Diff {
            missing: libvirt
                .keys()
                .filter(|n| !app.contains_key(*n))
                .cloned()
                .collect(),
            ghosts: app
                .keys()
                .filter(|n| !libvirt.contains_key(*n))
                .cloned()
                .collect(),
            wrong_state: libvirt
                .iter()
                .filter(|(n, s)| app.get(*n).is_some_and(|a| a != *s))
                .map(|(n, s)| format!("{n} (app {:?}, libvirt {s:?})", app[n]))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.ghosts.is_empty() && self.wrong_state.is_empty()
    }
}

/// Polls the app's list of `uri` until it matches `virsh list --all` or `limit`
/// passes; returns how many looks it took (1: it matched at once) and how long, or
/// the last difference.
pub fn until_lists_match(
    pid: u32,
    probe: &Path,
    uri: &str,
    limit: Duration,
) -> Result<(u32, Duration), Diff> {
    let t = Instant::now();
    let mut looks = 0;
    loop {
        looks += 1;
        let report = probe_report(pid, probe);
        let libvirt = virsh_listing(uri).unwrap_or_default();
        let app = app_listing(&report, uri).unwrap_or_default();
        let diff = Diff::of(&app, &libvirt);
        if diff.is_empty() {
            return Ok((looks, t.elapsed()));
        }
        if t.elapsed() > limit {
            return Err(diff);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stall histogram buckets ([ms, beats]) of a report's `since_report` part of
/// `section` (`stalls`: as seen; `busy_stalls`: without the waits for a CPU), added
/// into `into`.
pub fn merge_stalls(into: &mut BTreeMap<u64, u64>, report: &Value, section: &str) {
    for b in report[section]["since_report"]["buckets"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let (Some(ms), Some(n)) = (b[0].as_u64(), b[1].as_u64()) {
            *into.entry(ms).or_default() += n;
        }
    }
}

/// The `q` quantile (upper bound, ms) of a merged stall histogram.
pub fn stall_quantile(h: &BTreeMap<u64, u64>, q: f64) -> u64 {
    let total: u64 = h.values().sum();
    let wanted = ((total as f64 * q).ceil() as u64).max(1);
    let mut seen = 0;
    for (ms, n) in h {
        seen += n;
        if seen >= wanted {
            return ms + 1;
        }
    }
    0
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}

/// Least-squares slope of `y` over `x`.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Where a run keeps its files (probe reports, logs, settings): a fresh directory.
pub fn run_dir(name: &str) -> PathBuf {
    crate::kit::testbed::temp_dir(&format!("soak-{name}"))
}

/// The time of a log line of Vireo's (tracing's RFC 3339 stamp at its start).
pub fn log_time(line: &str) -> Option<SystemTime> {
    // 2026-12-04T07:59:03.212473Z
    let stamp = line.split_whitespace().next()?;
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let nanos: u32 = format!("{frac:0<9}")[..9].parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + Duration::new(u64::try_from(secs).ok()?, nanos))
}
