//! The serial console widget through a real libvirt daemon (`qemu:///system`, private
//! `libvirtd` started by the test bed): the console stream then crosses libvirt's RPC
//! (remote driver streams), the path people use every day.
//!
//! - typing reaches the guest and its answer shows in the terminal;
//! - 1 MiB of random data (base64) arrives intact while the main loop keeps turning;
//! - `virsh reboot` in another process: the terminal shows the new boot;
//! - `virsh destroy` + `virsh start`: the widget says the VM stopped, then reattaches;
//! - the daemon restarted under the open console: the widget says the connection is
//!   gone, then reattaches once the model has reconnected.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test
//! serial_remote`. Needs root, QEMU and libvirtd; skipped with one loud line where they
//! are missing, except in CI (`CI=true`). The daemon and every guest are removed after.

mod common;
mod serial_support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::testbed::{self, virsh, Guest, SystemDaemon};
use common::wait_until;
use serial_support::*;
use vireo::ui::console::SerialStatus;

const BIN: &str = "serial_remote";
const URI: &str = SystemDaemon::URI;
const NAME: &str = "vireo-test-serial-remote";

static DAEMON: Mutex<Option<SystemDaemon>> = Mutex::new(None);

fn console_over_the_daemon() {
    let bed = Bed::new(URI, NAME);
    bed.start();
    bed.console.set_domain(Some(&bed.domain));
    bed.wait_ready(1);

    let tag = random_tag();
    bed.type_text(&format!("echo {tag}\r"));
    wait_until("the answer", EVENT, || bed.count_screen(&tag) >= 1);

    let mib_s = flood_check(&bed, 1024 * 1024);
    println!("  through the daemon: {mib_s:.3} MiB/s");

    // Another process reboots the guest: same QEMU, same stream, a new boot.
    virsh(URI, &["reboot", NAME]);
    bed.wait_ready(2);
    assert_eq!(bed.console.status(), SerialStatus::Connected);

    // Another process destroys and starts it: a new QEMU and pty, attached by itself.
    virsh(URI, &["destroy", NAME]);
    wait_until("not running", EVENT, || {
        bed.console.status() == SerialStatus::NotRunning
    });
    let t = Instant::now();
    virsh(URI, &["start", NAME]);
    bed.wait_ready(3);
    assert_eq!(bed.console.status(), SerialStatus::Connected);
    println!(
        "  virsh start to the new boot on screen: {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

fn daemon_restart_reattaches() {
    let bed = Bed::new(URI, "vireo-test-serial-daemon");
    bed.start();
    bed.console.set_domain(Some(&bed.domain));
    bed.wait_ready(1);
    // The daemon restarts under the open console (as on a package upgrade; QEMU lives
    // on): the widget says the connection is gone. (A SIGKILLed daemon would leave its
    // console lock files behind, held by a pid that the init of this test machine
    // never reaps: libvirt then refuses the console, and the widget shows its text.)
    let pid_file = testbed::state_dir().join("daemon/libvirtd.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .expect("the daemon's pid");
    // SAFETY: plain kill(2) of the daemon this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    wait_until("the console reports the lost connection", EVENT, || {
        bed.console.status() == SerialStatus::Disconnected
    });
    println!("  while the daemon is away: {}", bed.console.status_text());
    // Back again: the model reconnects and the console attaches by itself.
    let t = Instant::now();
    with_daemon(|d| {
        d.restart();
    });
    let mut last = None;
    wait_until("reattached", Duration::from_secs(60), || {
        let now = (
            bed.connection.state(),
            bed.console.status(),
            bed.console.status_text(),
        );
        if last.as_ref() != Some(&now) {
            println!("  connection {:?}, console {:?}: {}", now.0, now.1, now.2);
            last = Some(now);
        }
        bed.console.status() == SerialStatus::Connected
    });
    println!(
        "  reattached {:.1} s after the daemon restarted",
        t.elapsed().as_secs_f64()
    );
    let tag = random_tag();
    bed.type_text(&format!("echo {tag}\r"));
    wait_until("the answer after the restart", EVENT, || {
        bed.count_screen(&tag) >= 1
    });
}

fn with_daemon<R>(f: impl FnOnce(&SystemDaemon) -> R) -> R {
    let guard = DAEMON.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.as_ref().expect("the daemon is started in main"))
}

fn main() {
    if let Some(why) = testbed::unavailable(true) {
        common::skip_or_fail(BIN, &why);
    }
    if let Err(e) = Guest::get() {
        common::skip_or_fail(BIN, &e);
    }
    init(BIN);
    *DAEMON.lock().unwrap() = Some(SystemDaemon::start());
    let cases: &[common::Test] = &[
        (
            "console_over_the_daemon",
            Duration::from_secs(400),
            console_over_the_daemon,
        ),
        (
            "daemon_restart_reattaches",
            Duration::from_secs(300),
            daemon_restart_reattaches,
        ),
    ];
    let failed = common::run(cases);
    // Stops the daemon, destroys and undefines leftover test domains.
    drop(DAEMON.lock().unwrap_or_else(|p| p.into_inner()).take());
    std::process::exit(i32::from(!failed.is_empty()));
}
