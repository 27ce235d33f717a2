//! End-to-end tests on the embedded QEMU driver (`qemu:///embed?root=DIR`): no daemon,
//! libvirt's QEMU driver runs inside this process. Through Vireo's model: the guest
//! boots from its kernel and from the ISO, the serial console shows the ready line,
//! ACPI shutdown arrives as an event.
//!
//! Needs root and QEMU; skipped with one loud line where they are missing, except in CI
//! (`CI=true`), where that is a failure. One embedded root serves the whole process
//! (libvirt allows a single embedded QEMU driver per process).

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::console::SerialConsole;
use common::testbed::{self, define_xml, Boot, EmbedRoot, Guest, POWEROFF_LINE, READY_LINE};
use common::{block_on, wait_until};
use vireo::model::{ConnectionObject, ConnectionState, DomainAction, DomainObject, DomainState};
use vireo::virt::handles::release_connect;

const BIN: &str = "e2e_embed";
const BOOT: Duration = Duration::from_secs(90);
const EVENT: Duration = Duration::from_secs(15);

static ROOT: Mutex<Option<EmbedRoot>> = Mutex::new(None);

fn uri() -> String {
    let guard = ROOT.lock().unwrap_or_else(|p| p.into_inner());
    guard.as_ref().expect("the root is made in main").uri()
}

fn root_dir() -> std::path::PathBuf {
    let guard = ROOT.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .expect("the root is made in main")
        .dir
        .clone()
}

fn open() -> ConnectionObject {
    let c = ConnectionObject::new(&uri());
    c.set_stats_interval(0);
    let t = Instant::now();
    c.open();
    // The first root on a machine probes QEMU's capabilities (~8 s).
    wait_until("connected", Duration::from_secs(120), || {
        assert_ne!(
            c.state(),
            ConnectionState::Failed,
            "open failed: {:?}",
            c.error()
        );
        c.state() == ConnectionState::Connected
    });
    println!("  open {}: {:.2} s", c.uri(), t.elapsed().as_secs_f64());
    c
}

fn define(c: &ConnectionObject, xml: String) -> DomainObject {
    let uuid = block_on(c.with_connect(move |conn| define_xml(conn, &xml)))
        .expect("connected")
        .expect("define");
    wait_until("the defined domain in the model", EVENT, || {
        c.domains().by_uuid(&uuid).is_some()
    });
    c.domains().by_uuid(&uuid).unwrap()
}

/// Starts `d`, opens its console and waits for the ready line; returns the console.
fn boot(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
    let t = Instant::now();
    block_on(c.run_action(d, DomainAction::Start)).expect("start");
    wait_until("running", EVENT, || d.state() == DomainState::Running);
    let raw = c.raw().expect("open connection");
    let con = SerialConsole::open(&raw, &d.uuid());
    release_connect(raw);
    let con = con.expect("serial console");
    wait_until(&format!("{READY_LINE} on the console"), BOOT, || {
        con.count_lines(READY_LINE) >= 1
    });
    println!(
        "  {}: boot to {READY_LINE}: {:.1} s",
        d.name(),
        t.elapsed().as_secs_f64()
    );
    con
}

fn remove(c: &ConnectionObject, d: &DomainObject) {
    let _ = block_on(c.run_action(d, DomainAction::ForceOff));
    block_on(c.run_action(
        d,
        DomainAction::Delete {
            remove_storage: vec![],
        },
    ))
    .expect("delete");
    wait_until("removed from the model", EVENT, || {
        c.domains().by_uuid(&d.uuid()).is_none()
    });
}

fn kernel_boot_and_acpi_shutdown() {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&root_dir().join("vda.qcow2"));
    let c = open();
    let d = define(
        &c,
        guest.domain_xml("vireo-test-embed", Boot::Kernel, Some(&disk)),
    );
    let con = boot(&c, &d);
    assert!(
        con.text().contains("VIREO-GUEST-DISK vda VIREO-DATA-DISK"),
        "{}",
        con.text()
    );
    let t = Instant::now();
    block_on(c.run_action(&d, DomainAction::Shutdown)).expect("ACPI shutdown");
    wait_until("shut off by the guest", Duration::from_secs(60), || {
        d.state() == DomainState::Shutoff && d.last_event_instant().is_some_and(|e| e >= t)
    });
    println!(
        "  ACPI shutdown to shut off: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        con.text().contains(POWEROFF_LINE),
        "powered off through acpid"
    );
    drop(con);
    remove(&c, &d);
    c.close();
}

fn iso_boot() {
    let guest = Guest::get().unwrap();
    let c = open();
    let d = define(
        &c,
        guest.domain_xml("vireo-test-embed-iso", Boot::Iso, None),
    );
    let con = boot(&c, &d);
    drop(con);
    remove(&c, &d);
    c.close();
}

fn main() {
    if let Some(why) = testbed::unavailable(false) {
        common::skip_or_fail(BIN, &why);
    }
    let suite = Instant::now();
    if let Err(e) = Guest::get() {
        common::skip_or_fail(BIN, &e);
    }
    // The embedded driver logs its warnings to stderr; keep them in a file instead.
    if std::env::var_os("LIBVIRT_LOG_OUTPUTS").is_none() {
        let log = testbed::state_dir().join("e2e_embed-libvirt.log");
        std::env::set_var("LIBVIRT_LOG_OUTPUTS", format!("3:file:{}", log.display()));
    }
    vireo::model::init();
    *ROOT.lock().unwrap() = Some(EmbedRoot::new("e2e"));
    let failed = common::run(&[
        (
            "kernel_boot_and_acpi_shutdown",
            Duration::from_secs(180),
            kernel_boot_and_acpi_shutdown,
        ),
        ("iso_boot", Duration::from_secs(180), iso_boot),
    ]);
    // Kills what the embedded driver left running and removes the root.
    drop(ROOT.lock().unwrap_or_else(|p| p.into_inner()).take());
    println!("{BIN}: {:.1} s in all", suite.elapsed().as_secs_f64());
    std::process::exit(i32::from(!failed.is_empty()));
}
