//! The serial console widget through a real libvirt daemon (`qemu:///system`, private
//! `libvirtd` started by the test bed): the console stream then crosses libvirt's RPC
//! (remote driver streams), the path people use every day.
//!
//! - typing reaches the guest and its answer shows in the terminal;
//! - 1 MiB of random data (base64) arrives intact while the main loop keeps turning;
//! - `virsh reboot` in another process: the terminal shows the new boot;
//! - `virsh destroy` + `virsh start`: the widget says the VM stopped, then reattaches;
//! - the daemon restarted under the open console: the widget says the connection is
//!   gone, then reattaches once the model has reconnected;
//! - `console_over_ssh`: the same widget on a VM of the test bed's remote host over
//!   `qemu+ssh://` (the stream crosses ssh too): the guest's shell answers, 256 KiB
//!   arrive intact.
//!
//! Run: `xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- cargo test --test
//! serial_remote`. Needs root, QEMU and libvirtd; skipped with one loud line where they
//! are missing, except in CI (`CI=true`). The daemon and every guest are removed after.

mod kit;

use std::time::{Duration, Instant};

use kit::remote_host::RemoteHost;
use kit::serial::{flood_check, random_tag, Bed};
use kit::testbed::{self, daemon, virsh, Need, SystemDaemon};
use kit::{test, wait_until, Runner, EVENT};
use vireo::ui::console::SerialStatus;

const URI: &str = SystemDaemon::URI;
const NAME: &str = "vireo-test-serial-remote";

fn console_over_the_daemon() {
    daemon();
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
    daemon();
    let bed = Bed::new(URI, "vireo-test-serial-daemon");
    bed.start();
    bed.console.set_domain(Some(&bed.domain));
    bed.wait_ready(1);
    // The daemon restarts under the open console (as on a package upgrade; QEMU lives
    // on): the widget says the connection is gone. (A SIGKILLed daemon would leave its
    // console lock files behind, held by a pid that the init of this test machine
    // never reaps: libvirt then refuses the console, and the widget shows its text.)
    daemon().signal(libc::SIGTERM);
    wait_until("the console reports the lost connection", EVENT, || {
        bed.console.status() == SerialStatus::Disconnected
    });
    println!("  while the daemon is away: {}", bed.console.status_text());
    // Back again: the model reconnects and the console attaches by itself.
    let t = Instant::now();
    daemon().restart();
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

fn console_over_ssh() {
    let host = RemoteHost::up("serial");
    let bed = Bed::new(&host.uri, "vireo-test-serial-ssh");
    bed.start();
    bed.console.set_domain(Some(&bed.domain));
    bed.wait_ready(1);
    let tag = random_tag();
    bed.type_text(&format!("echo {tag}\r"));
    wait_until("the answer over ssh", EVENT, || bed.count_screen(&tag) >= 1);
    let mib_s = flood_check(&bed, 256 * 1024);
    println!("  through qemu+ssh: {mib_s:.3} MiB/s");
    // The bed goes before its host.
    drop(bed);
}

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest, Need::RemoteHost]);
    Runner::new().gui().run(vec![
        test("console_over_the_daemon", console_over_the_daemon).limit(400),
        test("daemon_restart_reattaches", daemon_restart_reattaches).limit(300),
        test("console_over_ssh", console_over_ssh).limit(300),
    ]);
}
