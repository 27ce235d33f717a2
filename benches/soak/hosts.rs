//! Many hosts: 20 libvirt test-driver hosts of 500 VMs each (half running), plus the
//! private daemon and a second private daemon (`tools/soak/second-daemon.sh`) with a
//! booted guest each: 22 connections, opened at start from the saved connections as a
//! person's would be.
//!
//! Measured from outside like `benches/harness/measure.sh` does (same environment:
//! no accessibility bus, X11, GTK's cairo renderer as virt-manager draws, and GL
//! beside): time until every host is listed and drawn (the log's `ready` lines), CPU
//! to get there, idle CPU over a window after it settled, peak and steady RSS and PSS;
//! from inside (the probe, heartbeat off so it costs nothing): what the stats ticks
//! cost. virt-manager runs the same case in the same sitting when it is installed.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vireo::virt::test_node::{write_node, NodeSpec};

use crate::kit::runner::on_cleanup;
use crate::kit::screen::screenshot_dir;
use crate::kit::testbed::{daemon, repo, run_ok, virsh, Boot, Guest, SystemDaemon, DOMAIN_PREFIX};
use crate::measure::{mib, probe_report, proc_sample, run_dir, MachineLoad, ProcSample};

const HOSTS: usize = 20;
const VMS: usize = 500;

pub fn run() {
    let idle_secs = crate::length("SOAK_IDLE_SECS", 10, 30);
    let dir = run_dir("hosts");
    let mut uris: Vec<String> = (0..HOSTS)
        .map(|i| {
            let spec = NodeSpec {
                domains: VMS,
                ..Default::default()
            };
            write_node(&dir.join("nodes"), &format!("host{i:02}.xml"), &spec).expect("node")
        })
        .collect();
    let guest = Guest::get().expect("the guest");
    daemon();
    boot(guest, SystemDaemon::URI, &dir, "one");
    let second = second_daemon(&dir.join("second"));
    boot(guest, &second, &dir, "two");
    uris.push(SystemDaemon::URI.to_owned());
    uris.push(second);
    let expect = uris.len();
    // The test-driver hosts list 500 VMs; the daemons the guest each.
    println!(
        "\n{HOSTS} test-driver hosts x {VMS} VMs + 2 daemons with a booted guest; idle over {idle_secs} s"
    );
    println!("\n| app | renderer | stats every | all {expect} hosts listed (s) | CPU to there (s) | idle CPU (% of a core) | peak RSS (MiB) | steady RSS (MiB) | steady PSS (MiB) | threads | machine busy (%) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let vireo_runs: &[(&str, u32)] = if crate::ci() {
        &[("cairo", 1000)]
    } else {
        &[("cairo", 1000), ("gl", 1000), ("cairo", 3000)]
    };
    let mut costs = Vec::new();
    for &(renderer, interval) in vireo_runs {
        let r = measure_vireo(&dir, &uris, renderer, interval, idle_secs);
        r.print("Vireo", renderer, interval);
        costs.push((renderer, interval, r.stats));
    }
    if !crate::ci() {
        match which("virt-manager") {
            Some(_) => {
                measure_virt_manager(&dir, &uris, idle_secs).print("virt-manager", "cairo", 3000)
            }
            None => println!(
                "| virt-manager | not installed (tools/install-deps.sh bench) | | | | | | | | | |"
            ),
        }
    }
    println!("\nstats cost (probe, over the idle window, all {expect} hosts): ");
    for (renderer, interval, s) in costs {
        println!("  {renderer}, every {interval} ms: {s}");
    }
}

/// One app's figures.
struct Figures {
    ready_s: Option<f64>,
    cpu_ready_s: f64,
    idle_pct: f64,
    /// At the end of the idle window (its `hwm_kib` is the peak).
    end: ProcSample,
    busy_pct: f64,
    stats: String,
}

impl Figures {
    fn print(&self, app: &str, renderer: &str, interval: u32) {
        println!(
            "| {app} | {renderer} | {:.0} s | {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {:.0} |",
            f64::from(interval) / 1000.0,
            self.ready_s
                .map_or("never".to_owned(), |s| format!("{s:.2}")),
            self.cpu_ready_s,
            self.idle_pct,
            mib(self.end.hwm_kib),
            mib(self.end.rss_kib),
            mib(self.end.pss_kib),
            self.end.threads,
            self.busy_pct
        );
    }
}

fn measure_vireo(
    dir: &Path,
    uris: &[String],
    renderer: &str,
    interval: u32,
    idle_secs: u64,
) -> Figures {
    let config = dir.join(format!("vireo-{renderer}-{interval}"));
    let list = gvariant_strv(uris);
    write_keyfile(
        &config,
        &format!(
            "[io/github/vireo/Vireo]\nconnections={list}\nautoconnect={list}\n\
             connections-initialized=true\nstats-interval=uint32 {interval}\n"
        ),
    );
    let probe = config.join("probe.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vireo"));
    cmd.env("VIREO_PROBE", &probe)
        .env("VIREO_PROBE_BEAT_MS", "0");
    let app = Launched::start(cmd, &config, renderer);
    let figures = app.measure(
        uris.len(),
        idle_secs,
        |log| ready_uris(log, "connection ", " ready:"),
        Some(&probe),
    );
    app.screenshot(&format!("soak-hosts-vireo-{renderer}-{interval}.png"));
    figures
}

fn measure_virt_manager(dir: &Path, uris: &[String], idle_secs: u64) -> Figures {
    let config = dir.join("virt-manager");
    let list = gvariant_strv(uris);
    write_keyfile(
        &config,
        &format!(
            "[org/virt-manager/virt-manager/connections]\nuris={list}\nautoconnect={list}\n\
             [org/virt-manager/virt-manager]\nsystem-tray=false\n"
        ),
    );
    let mut cmd = Command::new("virt-manager");
    cmd.args(["--no-fork", "--debug"]);
    let app = Launched::start(cmd, &config, "cairo");
    let figures = app.measure(
        uris.len(),
        idle_secs,
        |log| {
            // "conn=URI changed to state=Active"
            ready_uris(log, "conn=", " changed to state=Active")
        },
        None,
    );
    app.screenshot("soak-hosts-virt-manager.png");
    figures
}

/// The distinct URIs of the lines with `before URI after`.
fn ready_uris(log: &str, before: &str, after: &str) -> usize {
    let mut seen: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find(before)? + before.len()..];
            Some(&rest[..rest.find(after)?])
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// An app started by this run in its own process group, ended with it.
struct Launched {
    child: Child,
    log: PathBuf,
    started: Instant,
}

impl Launched {
    fn start(mut cmd: Command, config: &Path, renderer: &str) -> Launched {
        let log = config.join("app.log");
        let out = std::fs::File::create(&log).expect("log file");
        cmd.env("GSETTINGS_BACKEND", "keyfile")
            .env("XDG_CONFIG_HOME", config)
            .env("NO_AT_BRIDGE", "1")
            .env("GTK_A11Y", "none")
            .env("GDK_BACKEND", "x11")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .process_group(0);
        if renderer == "cairo" {
            cmd.env("GSK_RENDERER", "cairo");
        } else {
            cmd.env_remove("GSK_RENDERER");
        }
        let started = Instant::now();
        let child = cmd.spawn().expect("starting the app");
        let pgid = child.id() as i32;
        // SAFETY: kill(2) of the process group this run started.
        on_cleanup(move || unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        });
        Launched {
            child,
            log,
            started,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `ready(log)` counts `hosts`, then measures an idle window.
    fn measure(
        &self,
        hosts: usize,
        idle_secs: u64,
        ready: impl Fn(&str) -> usize,
        probe: Option<&Path>,
    ) -> Figures {
        let pid = self.pid();
        let ready_s = wait_until_or_none(Duration::from_secs(300), || {
            assert!(crate::measure::alive(pid), "the app ended:\n{}", self.log());
            ready(&self.log()) >= hosts
        })
        .then(|| self.started.elapsed().as_secs_f64());
        let cpu_ready_s = proc_sample(pid).map_or(0.0, |s| s.cpu_s);
        // Settle as measure.sh does: 20 s after the start and 5 s after ready.
        let settle =
            (self.started + Duration::from_secs(20)).max(Instant::now() + Duration::from_secs(5));
        std::thread::sleep(settle.saturating_duration_since(Instant::now()));
        let before = proc_sample(pid).expect("the app runs");
        let probe_before = probe.map(|p| probe_report(pid, p));
        let load = MachineLoad::now();
        let t = Instant::now();
        std::thread::sleep(Duration::from_secs(idle_secs));
        let end = proc_sample(pid).expect("the app runs");
        let elapsed = t.elapsed().as_secs_f64();
        let busy_pct = load.busy_pct_since();
        let stats = match (probe, probe_before) {
            (Some(p), Some(b)) => stats_cost(&b, &probe_report(pid, p), elapsed),
            _ => String::new(),
        };
        Figures {
            ready_s,
            cpu_ready_s,
            idle_pct: (end.cpu_s - before.cpu_s) / elapsed * 100.0,
            end,
            busy_pct,
            stats,
        }
    }

    fn screenshot(&self, name: &str) {
        let path = screenshot_dir().join(name);
        let _ = Command::new("import")
            .args(["-window", "root"])
            .arg(&path)
            .status();
        println!("  screenshot: {}", path.display());
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        // SAFETY: kill(2) of the process group this run started.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGTERM) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

fn wait_until_or_none(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The stats ticks' cost between two probe reports, summed over the hosts.
fn stats_cost(before: &Value, after: &Value, secs: f64) -> String {
    let sum = |r: &Value, key: &str| -> f64 {
        r["stats"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c[key].as_f64().unwrap_or(0.0))
            .sum()
    };
    let ticks = sum(after, "ticks") - sum(before, "ticks");
    let worker = sum(after, "worker_ms") - sum(before, "worker_ms");
    let main = sum(after, "main_ms") - sum(before, "main_ms");
    format!(
        "{ticks:.0} ticks in {secs:.0} s ({:.1}/s); per tick: libvirt call {:.3} ms on the \
         worker, applying {:.3} ms on the main thread; per second: {:.2} ms worker, {:.2} ms \
         main thread",
        ticks / secs,
        worker / ticks.max(1.0),
        main / ticks.max(1.0),
        worker / secs,
        main / secs
    )
}

fn gvariant_strv(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|u| format!("'{u}'")).collect();
    format!("[{}]", quoted.join(", "))
}

fn write_keyfile(config: &Path, text: &str) {
    let d = config.join("glib-2.0/settings");
    std::fs::create_dir_all(&d).expect("settings dir");
    std::fs::write(d.join("keyfile"), text).expect("keyfile");
}

/// Defines and starts a guest on `uri`.
fn boot(guest: &Guest, uri: &str, dir: &Path, tag: &str) {
    let name = format!("{DOMAIN_PREFIX}-hosts-{tag}");
    let disk = guest.overlay(&dir.join(format!("{tag}.qcow2")));
    let file = dir.join(format!("{tag}.xml"));
    std::fs::write(&file, guest.domain_xml(&name, Boot::Kernel, Some(&disk))).expect("xml");
    virsh(uri, &["define", &file.to_string_lossy()]);
    virsh(uri, &["start", &name]);
}

/// Starts the second daemon (stopped by the cleanup); returns its URI.
fn second_daemon(dir: &Path) -> String {
    let script = repo().join("tools/soak/second-daemon.sh");
    let stop = (script.clone(), dir.to_owned());
    on_cleanup(move || {
        let _ = Command::new(&stop.0).arg("stop").arg(&stop.1).status();
    });
    print!("  {}", run_ok(Command::new(&script).arg("start").arg(dir)));
    run_ok(Command::new(&script).arg("uri").arg(dir))
        .trim()
        .to_owned()
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}
