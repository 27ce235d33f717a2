//! End-to-end tests on the embedded QEMU driver (`qemu:///embed?root=DIR`): no daemon,
//! libvirt's QEMU driver runs inside this process. Through Vireo's model: the guest
//! boots from its kernel and from the ISO, the serial console shows the ready line,
//! ACPI shutdown arrives as an event.
//!
//! Needs root and QEMU; skipped with one loud line where they are missing, except in CI
//! (`CI=true`), where that is a failure. One embedded root serves the whole process
//! (libvirt allows a single embedded QEMU driver per process).

mod kit;

use std::time::{Duration, Instant};

use kit::console::SerialConsole;
use kit::model::{connect, define, remove, start};
use kit::testbed::{embed_root, Boot, Guest, Need, POWEROFF_LINE, READY_LINE};
use kit::{block_on, test, wait_until, Runner, BOOT};
use vireo::model::{ConnectionObject, DomainAction, DomainObject, DomainState};

fn open() -> ConnectionObject {
    let t = Instant::now();
    let c = connect(&embed_root().uri());
    c.set_stats_interval(0);
    println!("  open {}: {:.2} s", c.uri(), t.elapsed().as_secs_f64());
    c
}

/// Starts `d`, opens its console and waits for the ready line; returns the console.
fn boot(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
    let t = Instant::now();
    start(c, d);
    let con = SerialConsole::of(c, d);
    con.wait_lines(READY_LINE, 1, BOOT);
    println!(
        "  {}: boot to {READY_LINE}: {:.1} s",
        d.name(),
        t.elapsed().as_secs_f64()
    );
    con
}

fn kernel_boot_and_acpi_shutdown() {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&embed_root().dir.join("vda.qcow2"));
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
    kit::testbed::require(&[Need::Qemu, Need::Guest]);
    Runner::new().run(vec![
        test(
            "kernel_boot_and_acpi_shutdown",
            kernel_boot_and_acpi_shutdown,
        )
        .limit(180),
        test("iso_boot", iso_boot).limit(180),
    ]);
}
