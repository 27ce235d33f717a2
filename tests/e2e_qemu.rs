//! End-to-end tests against real QEMU (TCG) and a real `qemu:///system` daemon, through
//! Vireo's own `virt`/`model` layers: boot with serial console, VGA picture and stats,
//! changes made by `virsh` in another process reaching the model as events, the daemon
//! killed and restarted under an open connection, and `qemu:///session` as an
//! unprivileged user.
//!
//! Needs root, QEMU and libvirtd (`tools/install-deps.sh test`). Skipped with one loud
//! line where they are missing, except in CI (`CI=true`), where that is a failure.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

mod kit;

use std::cell::Cell;
use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glib::prelude::*;
use kit::console::SerialConsole;
use kit::model::{act, connect, define, domain, remove, start};
use kit::screen::{decode, domain_screenshot, pixel};
use kit::testbed::{
    self, daemon, virsh, Boot, Guest, Need, SystemDaemon, POWEROFF_LINE, READY_LINE, VGA_PIXELS,
    VGA_SIZE,
};
use kit::{block_on, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::{ConnectionObject, ConnectionState, DomainAction, DomainObject, DomainState};

const URI: &str = SystemDaemon::URI;

/// A scratch directory QEMU (as libvirt-qemu) can reach, removed when the suite ends.
fn work_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| testbed::temp_dir("e2e")).clone()
}

/// The daemon's connection, with stats every 250 ms.
fn open() -> ConnectionObject {
    daemon();
    let c = connect(URI);
    c.set_stats_interval(250);
    c
}

/// Waits for `d` to reach `state` through an event that arrived after `since`.
fn wait_event_state(d: &DomainObject, state: DomainState, since: Instant, what: &str) {
    wait_until(what, EVENT, || {
        d.state() == state && d.last_event_instant().is_some_and(|t| t >= since)
    });
}

fn boots_with_console_and_stats() {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&work_dir().join("boot.qcow2"));
    let c = open();
    let d = define(
        &c,
        guest.domain_xml("vireo-test-boot", Boot::Kernel, Some(&disk)),
    );
    assert_eq!(d.state(), DomainState::Shutoff);
    let (max_cpu, max_disk) = (Rc::new(Cell::new(0.0f64)), Rc::new(Cell::new(0.0f64)));
    let (mc, md) = (max_cpu.clone(), max_disk.clone());
    d.connect_local("stats-updated", false, move |v| {
        let d = v[0].get::<DomainObject>().unwrap();
        mc.set(mc.get().max(d.cpu_percent()));
        md.set(md.get().max(d.disk_read_bps()));
        None
    });

    let t = Instant::now();
    start(&c, &d);
    let con = SerialConsole::of(&c, &d);
    con.wait_lines(READY_LINE, 1, BOOT);
    println!(
        "  boot to {READY_LINE} on the console: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        con.text().contains("VIREO-GUEST-DISK vda VIREO-DATA-DISK"),
        "{}",
        con.text()
    );

    // The VGA picture, as a VNC client would see it.
    let uuid = d.uuid();
    let (mime, png) = block_on(c.with_connect(move |conn| domain_screenshot(conn, &uuid)))
        .expect("connected")
        .expect("screenshot");
    let shot = decode(&png).expect("decode the screenshot");
    assert_eq!(
        (shot.width() as u32, shot.height() as u32),
        VGA_SIZE,
        "{mime}"
    );
    for (x, y, rgb) in VGA_PIXELS {
        assert_eq!(pixel(&shot, x, y), rgb, "VGA pixel ({x}, {y})");
    }

    // The console is two-way: the guest's shell answers what we type.
    con.send("echo VIREO-$((6*7))\n").expect("send");
    wait_until("the shell's answer", Duration::from_secs(20), || {
        con.count_lines("VIREO-42") >= 1
    });

    wait_until(
        "stats with CPU time and disk reads",
        Duration::from_secs(10),
        || max_cpu.get() > 0.0 && max_disk.get() > 0.0,
    );
    println!(
        "  stats: max CPU {:.1} %, max disk read {:.0} B/s, memory {} KiB",
        max_cpu.get(),
        max_disk.get(),
        d.memory_used_kib()
    );
    drop(con);
    remove(&c, &d);
    assert!(
        c.domains().is_empty(),
        "the deleted domain was the only one"
    );
    c.close();
}

fn virsh_changes_reach_the_model() {
    let guest = Guest::get().unwrap();
    let work = work_dir();
    let disk = guest.overlay(&work.join("virsh.qcow2"));
    let name = "vireo-test-virsh";
    let xml_path = work.join("virsh.xml");
    std::fs::write(&xml_path, guest.domain_xml(name, Boot::Kernel, Some(&disk))).unwrap();
    let c = open();
    let list = c.domains();

    let t = Instant::now();
    virsh(URI, &["define", xml_path.to_str().unwrap()]);
    let d = wait_until("defined by virsh", EVENT, || domain(&c, name));
    println!("  define -> model: {:.3} s", t.elapsed().as_secs_f64());
    assert!(d.persistent());

    let step = |args: &[&str], state: DomainState| {
        let t = Instant::now();
        virsh(URI, args);
        let ran = t.elapsed();
        wait_event_state(&d, state, t, &format!("virsh {args:?} -> {state:?}"));
        println!(
            "  virsh {:<10} -> {state:?} in the model: {:.3} s (virsh itself {:.3} s)",
            args[0],
            t.elapsed().as_secs_f64(),
            ran.as_secs_f64()
        );
    };
    step(&["start", name], DomainState::Running);
    let con = SerialConsole::of(&c, &d);
    con.wait_lines(READY_LINE, 1, BOOT); // acpid runs from here on
    step(&["suspend", name], DomainState::Paused);
    step(&["resume", name], DomainState::Running);
    step(&["shutdown", name], DomainState::Shutoff);
    assert!(
        con.text().contains(POWEROFF_LINE),
        "the guest powered off by ACPI"
    );
    drop(con);
    step(&["start", name], DomainState::Running);

    // Undefining a running domain makes it transient; destroying it then removes it.
    let t = Instant::now();
    virsh(URI, &["undefine", name]);
    wait_until("undefine -> transient in the model", EVENT, || {
        !d.persistent() && d.last_event_instant().is_some_and(|e| e >= t)
    });
    assert_eq!(d.state(), DomainState::Running);
    println!(
        "  virsh undefine   -> transient: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    virsh(URI, &["destroy", name]);
    wait_until("destroyed transient domain gone", EVENT, || {
        list.by_uuid(&d.uuid()).is_none()
    });
    println!(
        "  virsh destroy    -> removed: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    assert!(list.is_empty());
    c.close();
}

/// The model's UUIDs, which must equal the daemon's, without duplicates.
fn assert_matches_daemon(c: &ConnectionObject) {
    let model: Vec<String> = c.domains().snapshot().iter().map(|d| d.uuid()).collect();
    let unique: HashSet<&String> = model.iter().collect();
    assert_eq!(
        unique.len(),
        model.len(),
        "duplicates in the model: {model:?}"
    );
    let daemon: HashSet<String> = virsh(URI, &["list", "--all", "--uuid"])
        .lines()
        .map(str::to_owned)
        .collect();
    let model: HashSet<String> = model.into_iter().collect();
    assert_eq!(model, daemon, "model vs daemon");
}

fn daemon_killed_and_restarted() {
    let guest = Guest::get().unwrap();
    let work = work_dir();
    let c = open();
    let list = c.domains();
    // Survives: persistent and running.
    let disk = guest.overlay(&work.join("keep.qcow2"));
    let keep = define(
        &c,
        guest.domain_xml("vireo-test-keep", Boot::Kernel, Some(&disk)),
    );
    act(&c, &keep, DomainAction::Start);
    // Becomes a ghost: transient, its QEMU dies while the daemon is down.
    let ghost_xml = work.join("ghost.xml");
    std::fs::write(
        &ghost_xml,
        guest.domain_xml("vireo-test-ghost", Boot::Kernel, None),
    )
    .unwrap();
    virsh(URI, &["create", ghost_xml.to_str().unwrap()]);
    wait_until("both running in the model", EVENT, || {
        list.len() == 2
            && list
                .snapshot()
                .iter()
                .all(|d| d.state() == DomainState::Running)
    });
    let ghost = domain(&c, "vireo-test-ghost").expect("the ghost is listed");

    let t = Instant::now();
    daemon().kill();
    wait_until("connection lost", Duration::from_secs(30), || {
        c.state() == ConnectionState::Lost
    });
    println!(
        "  lost after {:.2} s: {:?}",
        t.elapsed().as_secs_f64(),
        c.error()
    );
    assert!(
        c.error().is_some_and(|e| !e.is_empty()),
        "the loss has a reason"
    );
    let pid = SystemDaemon::qemu_pid("vireo-test-ghost").expect("the ghost's QEMU pid");
    // SAFETY: kill(2) of the QEMU of our own transient test domain.
    unsafe { libc::kill(pid, libc::SIGKILL) };

    // Let at least one reconnect attempt fail against the dead socket.
    kit::pump(Duration::from_millis(1500));
    assert_eq!(c.state(), ConnectionState::Lost);
    let secs = daemon().restart();
    let t = Instant::now();
    // Defined after the restart, maybe before Vireo is back: must show up once.
    let new_xml = work.join("new.xml");
    std::fs::write(
        &new_xml,
        guest.domain_xml("vireo-test-new", Boot::Kernel, None),
    )
    .unwrap();
    virsh(URI, &["define", new_xml.to_str().unwrap()]);
    wait_until("reconnected", Duration::from_secs(60), || {
        c.state() == ConnectionState::Connected
    });
    println!(
        "  daemon restart {secs:.2} s; Vireo reconnected {:.2} s after it answered",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(c.error(), None);
    wait_until("the model matches the daemon", EVENT, || {
        list.len() == 2 && list.by_uuid(&ghost.uuid()).is_none()
    });
    assert_matches_daemon(&c);
    let again = list.by_uuid(&keep.uuid()).expect("the survivor");
    assert!(again == keep, "the surviving domain keeps its object");
    assert_eq!(keep.state(), DomainState::Running);

    // Events flow on the new connection.
    let t = Instant::now();
    virsh(URI, &["suspend", "vireo-test-keep"]);
    wait_event_state(&keep, DomainState::Paused, t, "suspend after reconnect");
    for d in list.snapshot() {
        remove(&c, &d);
    }
    assert_matches_daemon(&c);
    c.close();
}

fn session_as_unprivileged_user() {
    let out = testbed::run_self_as_test_user(&["--session-child"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        println!("  [{}] {line}", testbed::TEST_USER);
    }
    assert!(
        out.status.success(),
        "session check failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs as the unprivileged user: qemu:///session through Vireo's model.
fn session_child() {
    let guest = Guest::prebuilt().expect("guest");
    let t = Instant::now();
    let c = connect("qemu:///session");
    c.set_stats_interval(250);
    println!(
        "session daemon autostart + open: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // A leftover of an interrupted run would clash by name.
    for d in c.domains().snapshot() {
        if d.name() == "vireo-test-session" {
            remove(&c, &d);
        }
    }
    let d = define(
        &c,
        guest.domain_xml("vireo-test-session", Boot::Kernel, None),
    );
    let t = Instant::now();
    start(&c, &d);
    let con = SerialConsole::of(&c, &d);
    con.wait_lines(READY_LINE, 1, BOOT);
    println!("boot to {READY_LINE}: {:.1} s", t.elapsed().as_secs_f64());
    drop(con);
    remove(&c, &d);
    assert!(c.domains().is_empty());
    c.close();
}

fn main() {
    if std::env::args().any(|a| a == "--session-child") {
        Runner::new().run(vec![test("session_child", session_child).limit(240)]);
    }
    testbed::require(&[Need::Daemon, Need::Guest]);
    Runner::new().run(vec![
        test("boots_with_console_and_stats", boots_with_console_and_stats).limit(180),
        test(
            "virsh_changes_reach_the_model",
            virsh_changes_reach_the_model,
        )
        .limit(240),
        test("daemon_killed_and_restarted", daemon_killed_and_restarted).limit(240),
        test("session_as_unprivileged_user", session_as_unprivileged_user).limit(300),
    ]);
}
