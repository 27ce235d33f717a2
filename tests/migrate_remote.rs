//! Migration of the test-bed guest between two private libvirt daemons through
//! Vireo's model: the local test daemon (`qemu:///system`) and a remote test host in
//! its own namespaces reached over `qemu+ssh://` (`tests/testbed/remote-host.sh`).
//! Vireo drives the migration itself (not peer to peer); the source QEMU reaches the
//! destination's migration port over the host's veth pair.
//!
//! - live: the running guest moves with its memory and its disk (copied over NBD into
//!   the remote host's own /var/lib/libvirt/images), appears in the remote host's list
//!   from its events, leaves the local one, and its shell keeps answering on the serial
//!   console, with what it held in memory; the time and downtime are printed;
//! - Cancel during a live migration leaves the guest running at home and nothing on
//!   the remote host;
//! - offline: a shut-off guest's definition and disk move through streams and it boots
//!   there;
//! - through Vireo's window: Move to Another Host offers the remote host, says what
//!   the move does with both host names, moves the running guest and closes; the VM
//!   is listed there and its shell answers.
//!
//! Needs root, QEMU, libvirtd, sshd (`tools/install-deps.sh test`).

mod kit;

use std::path::{Path, PathBuf};
use std::time::Duration;

use gtk::prelude::*;
use kit::app::{button, toplevel, TestApp};
use kit::console::SerialConsole;
use kit::model::{act, connect, define, domain, remove, start};
use kit::remote_host::RemoteHost;
use kit::screen::save_png;
use kit::testbed::{self, daemon, Boot, Guest, Need, SystemDaemon, READY_LINE};
use kit::vm_copies::texts;
use kit::{block_on, settle, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::migration::{MigrateMode, MigrateRequest};
use vireo::model::{ConnectionObject, ConnectionState, DomainAction, DomainObject, DomainState};
use vireo::ui::MigrateDialog;

/// The guest's disks live here on each host: private to each (the isolate's and the
/// remote host's own /var/lib/libvirt), like two machines' local disks.
const IMAGES: &str = "/var/lib/libvirt/images";

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest, Need::RemoteHost]);
    // One process a test: the last one runs Vireo's window (a GApplication).
    Runner::new().gui().fresh_process().run(vec![
        test("live_migration_keeps_the_guest_answering", live).limit(400),
        test("live_move_through_the_window", live_through_the_window).limit(400),
        test("cancelled_live_migration_stays_home", cancelled).limit(400),
        test("offline_migration_moves_definition_and_disk", offline).limit(400),
    ]);
}

/// `ls ARGS` inside the remote host.
fn ls(host: &RemoteHost, args: &[&str]) -> String {
    let mut all = vec!["ls"];
    all.extend_from_slice(args);
    String::from_utf8_lossy(&host.exec(&all).stdout).into_owned()
}

/// A test guest whose disk is an overlay in this host's own image directory.
fn guest_here(local: &ConnectionObject, name: &str) -> (DomainObject, PathBuf) {
    let guest = Guest::get().unwrap();
    std::fs::create_dir_all(IMAGES).unwrap();
    let disk = guest.overlay(&Path::new(IMAGES).join(format!("{name}.qcow2")));
    let d = define(local, guest.domain_xml(name, Boot::Kernel, Some(&disk)));
    (d, disk)
}

fn both(host: &RemoteHost) -> (ConnectionObject, ConnectionObject) {
    daemon();
    (connect(SystemDaemon::URI), connect(&host.uri))
}

fn live() {
    let host = RemoteHost::up("mig");
    let (local, remote) = both(&host);
    let name = "vireo-test-live";
    let (d, disk) = guest_here(&local, name);
    start(&local, &d);
    let con = SerialConsole::of(&local, &d);
    con.wait_lines(READY_LINE, 1, BOOT);
    assert_eq!(
        con.ask("L1", "echo KEPT > /root/memory && cat /root/memory"),
        "KEPT"
    );

    let plan =
        block_on(local.prepare_migration(&d, &remote)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert_eq!(plan.mode, MigrateMode::Live);
    assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
    assert_eq!(plan.dest_host, host.hostname);
    assert_ne!(plan.source_host, plan.dest_host);
    assert_eq!(plan.disks.len(), 1);
    assert!(
        !plan.disks[0].on_destination,
        "the remote host has its own images"
    );
    let title = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let t = title.clone();
    d.connect_notify_local(Some("operation"), move |d, _| {
        if let Some(op) = d.operation() {
            *t.borrow_mut() = op.title();
        }
    });
    let outcome = block_on(local.migrate(&d, &remote, plan.clone(), MigrateRequest::default()))
        .unwrap_or_else(|e| panic!("{}", e.text()));
    // Both hosts are named.
    assert!(
        title.borrow().contains(&plan.source_host) && title.borrow().contains(&plan.dest_host),
        "{}",
        title.borrow()
    );
    println!(
        "  live migration (192 MiB guest, its {} KiB overlay copied): {} ms, downtime {} ms",
        plan.disks[0].allocation >> 10,
        outcome.elapsed_ms.unwrap_or(0),
        outcome.downtime_ms.unwrap_or(0)
    );
    let there = wait_until("the guest in the remote host's list", EVENT, || {
        domain(&remote, name)
    });
    assert_eq!(there.uuid(), d.uuid());
    wait_until("running there", EVENT, || {
        there.state() == DomainState::Running
    });
    wait_until("gone from here", EVENT, || domain(&local, name).is_none());
    // The same shell, with what it had in memory, answers on the new host.
    let con2 = SerialConsole::of(&remote, &there);
    assert_eq!(con2.ask("L2", "cat /root/memory"), "KEPT");
    assert_eq!(con2.ask("L3", "head -c 15 /dev/vda"), "VIREO-DATA-DISK");
    let remote_disk = ls(&host, &[IMAGES]);
    assert!(
        remote_disk.contains(&format!("{name}.qcow2")),
        "{remote_disk}"
    );
    drop((con, con2));
    remove(&remote, &there);
    let _ = std::fs::remove_file(disk);
    local.close();
    remote.close();
}

fn cancelled() {
    let host = RemoteHost::up("mig");
    let (local, remote) = both(&host);
    let name = "vireo-test-stay";
    let (d, disk) = guest_here(&local, name);
    start(&local, &d);
    let con = SerialConsole::of(&local, &d);
    con.wait_lines(READY_LINE, 1, BOOT);
    let plan =
        block_on(local.prepare_migration(&d, &remote)).unwrap_or_else(|e| panic!("{}", e.text()));
    d.connect_notify_local(Some("operation"), move |d, _| {
        if let Some(op) = d.operation() {
            op.connect_notify_local(Some("text"), |op, _| {
                if op.text().starts_with("Moving memory") && op.cancellable() {
                    op.cancel();
                }
            });
        }
    });
    let e = block_on(local.migrate(&d, &remote, plan, MigrateRequest::default()))
        .expect_err("cancelled");
    assert!(e.is_cancelled(), "{}", e.text());
    kit::pump(Duration::from_secs(1));
    assert_eq!(d.state(), DomainState::Running, "still running at home");
    assert_eq!(con.ask("S1", "echo home"), "home");
    assert!(domain(&remote, name).is_none());
    let left = ls(&host, &["-A", IMAGES]);
    assert!(!left.contains(name), "left on the remote host: {left}");
    drop(con);
    remove(&local, &d);
    let _ = std::fs::remove_file(disk);
    local.close();
    remote.close();
}

fn offline() {
    let host = RemoteHost::up("mig");
    let (local, remote) = both(&host);
    let name = "vireo-test-moved";
    let (d, disk) = guest_here(&local, name);
    // Most hosts have a `default` pool on the images directory; here it is defined but
    // not running, and libvirt refuses a second pool on its directory ("Storage source
    // conflict"): the move starts that one for the copy and stops it again after.
    host.virsh(&["pool-define-as", "default", "dir", "--target", IMAGES]);
    let plan =
        block_on(local.prepare_migration(&d, &remote)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert_eq!(plan.mode, MigrateMode::Offline);
    block_on(local.migrate(&d, &remote, plan, MigrateRequest::default()))
        .unwrap_or_else(|e| panic!("{}", e.text()));
    let there = wait_until("the guest in the remote host's list", EVENT, || {
        domain(&remote, name)
    });
    wait_until("gone from here", EVENT, || domain(&local, name).is_none());
    assert!(disk.exists(), "the source's disk stays");
    let pools = host.virsh(&["pool-list", "--all"]);
    assert!(
        pools
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["default", "inactive", "no"]),
        "the host's own pool is left as it was found:\n{pools}"
    );
    start(&remote, &there);
    let con = SerialConsole::of(&remote, &there);
    con.wait_lines(READY_LINE, 1, BOOT);
    assert!(
        con.text().contains("VIREO-GUEST-DISK vda VIREO-DATA-DISK"),
        "{}",
        con.text()
    );
    drop(con);
    act(&remote, &there, DomainAction::ForceOff);
    remove(&remote, &there);
    let _ = std::fs::remove_file(disk);
    local.close();
    remote.close();
}

fn live_through_the_window() {
    let host = RemoteHost::up("mig");
    daemon();
    let app = TestApp::start(&["--connect", SystemDaemon::URI]);
    let local = app.connection(0);
    wait_until("the local host connects", EVENT, || {
        local.state() == ConnectionState::Connected
    });
    // What Add Connection does.
    let remote = app.app.add_connection(&host.uri, true);
    wait_until("the remote host connects", EVENT, || {
        remote.state() == ConnectionState::Connected
    });
    let name = "vireo-test-moveui";
    let (d, _) = guest_here(&local, name);
    start(&local, &d);
    let con = SerialConsole::of(&local, &d);
    con.wait_lines(READY_LINE, 1, BOOT);

    app.window().open_domain(&d);
    settle();
    app.activate("win.domain-migrate");
    let dialog = toplevel::<MigrateDialog>();
    wait_until("the dialog says what the move does", EVENT, || {
        texts(&dialog).contains("keeps running while its memory moves")
    });
    let said = texts(&dialog);
    assert!(said.contains(&host.hostname), "{said}");
    assert!(said.contains("is copied to"), "{said}");
    save_png(&dialog, "migrate-dialog-live.png");
    let move_button = button(&dialog, "_Move");
    assert!(move_button.is_sensitive(), "{said}");
    move_button.emit_clicked();
    let there = wait_until("the guest in the remote host's list", BOOT, || {
        domain(&remote, name)
    });
    wait_until("the dialog closes once moved", BOOT, || {
        (!dialog.is_visible()).then_some(())
    });
    wait_until("gone from here", EVENT, || domain(&local, name).is_none());
    let con2 = SerialConsole::of(&remote, &there);
    assert_eq!(con2.ask("W1", "echo moved"), "moved");
    remove(&remote, &there);
    app.quit();
}
