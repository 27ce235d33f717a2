//! Daemons that come and go: the private daemon is killed (SIGKILL, as a crash) and
//! started again, over and over, under an open window showing a running guest's
//! console tab. While it is down, a VM is added to or removed from its definitions on
//! disk, so that after the restart the host has one the app never heard of or has lost
//! one the app knew: a ghost or a missing row shows at once.
//!
//! The daemon stays away for a while each time (0.2 to 4 s, in a fixed pattern), as a
//! crash restarted by systemd or a package upgrade would: a reconnect schedule that
//! happens to suit one downtime shows up with the others.
//!
//! Per restart: the app must see the loss, come back, and then list exactly what
//! `virsh list --all` lists. Figures: how long after the daemon answered the app was
//! connected and drawn again (its log's `ready` line), memory after every 10.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use vireo::virt::handles::release_connect;

use crate::kit::binary::App;
use crate::kit::testbed::{daemon, virsh, Boot, Guest, SystemDaemon, DOMAIN_PREFIX};
use crate::kit::wait_until;
use crate::measure::{
    alive, app_host_state, median, mib, percentile, probe_report, proc_sample, run_dir,
    until_lists_match, Diff,
};

const URI: &str = SystemDaemon::URI;
/// How long the daemon stays away, restart after restart (s).
const DOWNTIMES: [f64; 8] = [0.2, 1.3, 0.6, 2.5, 1.0, 4.0, 0.4, 1.8];

pub fn run() {
    let restarts = crate::length("SOAK_RESTARTS", 10, 100);
    daemon();
    let dir = run_dir("churn");
    let guest = Guest::get().expect("the guest");
    let guest_name = format!("{DOMAIN_PREFIX}-churn-guest");
    let disk = guest.overlay(&dir.join("guest.qcow2"));
    define(
        &dir,
        &guest.domain_xml(&guest_name, Boot::Kernel, Some(&disk)),
    );
    virsh(URI, &["start", &guest_name]);
    for i in 0..5 {
        define(&dir, &diskless_xml(&format!("{DOMAIN_PREFIX}-churn-{i}")));
    }
    // The VM that comes and goes while the daemon is down: libvirt writes its
    // definition once; the run puts that file back or takes it away.
    let away = format!("{DOMAIN_PREFIX}-churn-away");
    define(&dir, &diskless_xml(&away));
    let away_file = Path::new("/etc/libvirt/qemu").join(format!("{away}.xml"));
    let away_xml = std::fs::read_to_string(&away_file).expect("libvirt's file of the VM");
    virsh(URI, &["undefine", &away]);

    let probe = dir.join("probe.json");
    std::env::set_var("VIREO_PROBE", &probe);
    let app = App::launch(&["--connect", URI, "--show-domain-console", &guest_name]);
    app.wait_ready();
    let pid = app.pid();
    // The console tab connects and shows the guest.
    std::thread::sleep(Duration::from_secs(3));
    app.screenshot("soak-churn-console.png");
    if let Err(diff) = until_lists_match(pid, &probe, URI, Duration::from_secs(30)) {
        panic!("the list differs from libvirt before any restart: {diff:?}");
    }
    let start = proc_sample(pid).expect("vireo runs");
    println!(
        "\n| restarts | reconnect median (s) | reconnect max (s) | RSS (MiB) | PSS (MiB) |\n|---|---|---|---|---|\n| 0 | | | {:.1} | {:.1} |",
        mib(start.rss_kib),
        mib(start.pss_kib)
    );

    let mut reconnects = Vec::new();
    let mut noticed = Vec::new();
    let mut late_matches = 0;
    let mut mismatches: Vec<(u32, Diff)> = Vec::new();
    let mut memory = vec![(0u32, start)];
    for round in 1..=restarts as u32 {
        let ready_lines = ready_times(&app.log()).len();
        let killed = Instant::now();
        daemon().kill();
        wait_until(
            "the app sees the host lost",
            Duration::from_secs(60),
            || app_host_state(&probe_report(pid, &probe), URI).is_some_and(|s| s == "Lost"),
        );
        noticed.push(killed.elapsed().as_secs_f64());
        let down = Duration::from_secs_f64(DOWNTIMES[round as usize % DOWNTIMES.len()]);
        std::thread::sleep(down.saturating_sub(killed.elapsed()));
        if round % 2 == 1 {
            std::fs::write(&away_file, &away_xml).expect("writing the definition");
        } else {
            std::fs::remove_file(&away_file).expect("removing the definition");
        }
        let answered = restart_and_time_answer();
        let back = wait_until(
            "the app connected and drawn again",
            Duration::from_secs(120),
            || {
                assert!(alive(pid), "vireo died; its output:\n{}", app.log());
                ready_times(&app.log()).get(ready_lines).copied()
            },
        );
        let secs = match back.duration_since(answered) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => -e.duration().as_secs_f64(),
        };
        reconnects.push(secs);
        // What the list shows right after it is drawn again must already match.
        match until_lists_match(pid, &probe, URI, Duration::from_secs(20)) {
            Ok((1, _)) => {}
            Ok(_) => late_matches += 1,
            Err(diff) => mismatches.push((round, diff)),
        }
        if round % 10 == 0 || round == restarts as u32 {
            let s = proc_sample(pid).expect("vireo runs");
            let last = &reconnects[reconnects.len().saturating_sub(10)..];
            println!(
                "| {round} | {:.2} | {:.2} | {:.1} | {:.1} |",
                median(last),
                percentile(last, 1.0),
                mib(s.rss_kib),
                mib(s.pss_kib)
            );
            memory.push((round, s));
        }
    }
    let rounds_ok = alive(pid);
    app.screenshot("soak-churn-end.png");
    println!(
        "\nchurn: {restarts} kills and restarts; the app saw each loss after median {:.2} s; \
         reconnected after the daemon answered: median {:.2} s, p90 {:.2} s, max {:.2} s \
         (min {:.2} s); lists matching libvirt at the first look after each reconnection: \
         {}/{restarts} ({late_matches} only a moment later, {} never); vireo running: {rounds_ok}",
        median(&noticed),
        median(&reconnects),
        percentile(&reconnects, 0.9),
        percentile(&reconnects, 1.0),
        percentile(&reconnects, 0.0),
        restarts as usize - late_matches - mismatches.len(),
        mismatches.len()
    );
    println!("each reconnection (s): {reconnects:.2?}");
    app.quit();
    // The next runs share the daemon: leave it as found.
    virsh(URI, &["destroy", &guest_name]);
    for i in 0..5 {
        virsh(URI, &["undefine", &format!("{DOMAIN_PREFIX}-churn-{i}")]);
    }
    virsh(URI, &["undefine", &guest_name]);
    // Defined now after an odd number of restarts.
    let _ = crate::kit::testbed::run(
        std::process::Command::new("virsh").args(["-q", "-c", URI, "undefine", &away]),
    );
    assert!(
        mismatches.is_empty(),
        "the list differed from libvirt after restarts: {mismatches:?}"
    );
}

/// Starts the daemon again and returns when it answered: a client that keeps trying
/// to open a connection (an open made while it starts waits until it answers).
fn restart_and_time_answer() -> SystemTime {
    let starter = std::thread::spawn(|| daemon().restart());
    let t = Instant::now();
    let answered = loop {
        match virt::connect::Connect::open(Some(URI)) {
            Ok(c) => {
                let at = SystemTime::now();
                release_connect(c);
                break at;
            }
            Err(_) if t.elapsed() < Duration::from_secs(120) => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("the daemon did not come back: {e}"),
        }
    };
    starter.join().expect("libvirtd.sh start");
    answered
}

/// The times of the log's `connection qemu:///system ready` lines.
fn ready_times(log: &str) -> Vec<SystemTime> {
    let needle = format!("connection {URI} ready:");
    log.lines()
        .filter(|l| l.contains(&needle))
        .filter_map(crate::measure::log_time)
        .collect()
}

/// A VM without disks: it starts fast and costs little.
pub fn diskless_xml(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>\
         </domain>"
    )
}

fn define(dir: &Path, xml: &str) {
    let file = dir.join("define.xml");
    std::fs::write(&file, xml).expect("writing the XML");
    virsh(URI, &["define", &file.to_string_lossy()]);
}
