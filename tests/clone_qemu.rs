//! Clones of the test-bed guest on the private daemon's `qemu:///system`, through
//! Vireo's model: a running original cannot be cloned (its QEMU holds its disks) and
//! the plan says so; cloned once shut off, the clone boots while the original runs
//! again, with a MAC address of its own; a thin overlay clone boots on the original's disk; Cancel
//! during a copy and a failure halfway leave no volume, no domain and no pool behind.
//!
//! Needs root, QEMU and libvirtd (`tools/install-deps.sh test`).

mod kit;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glib::prelude::*;
use kit::console::SerialConsole;
use kit::model::{connect, define, remove, start};
use kit::testbed::{self, daemon, virsh, Boot, Guest, Need, SystemDaemon, READY_LINE};
use kit::{block_on, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::clones::{CloneRequest, DiskAction};
use vireo::model::{ConnectionObject, DomainObject, DomainState};

const URI: &str = SystemDaemon::URI;

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    Runner::new().run(vec![
        test(
            "clone_boots_beside_the_running_original",
            clone_beside_original,
        )
        .limit(400),
        test("overlay_clone_boots", overlay_clone).limit(300),
        test("cancel_leaves_nothing", cancel_leaves_nothing).limit(300),
        test("failure_leaves_nothing", failure_leaves_nothing).limit(200),
    ]);
}

fn work_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| testbed::temp_dir("clone")).clone()
}

fn open() -> ConnectionObject {
    daemon();
    connect(URI)
}

fn boot(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
    start(c, d);
    let con = SerialConsole::of(c, d);
    con.wait_lines(READY_LINE, 1, BOOT);
    con
}

/// The MAC address in a domain's live XML.
fn mac_in_xml(c: &ConnectionObject, d: &DomainObject) -> String {
    let xml = block_on(c.domain_xml(d, false)).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name("mac"))
        .and_then(|m| m.attribute("address"))
        .expect("a MAC address")
        .to_owned()
}

/// Files in the work directory whose name contains `part`.
fn files_with(part: &str) -> Vec<String> {
    std::fs::read_dir(work_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(part))
        .collect()
}

/// Nothing of a clone named `name` is left: no domain, no file, no job pool.
fn nothing_left(c: &ConnectionObject, name: &str) {
    settle_events();
    assert!(kit::model::domain(c, name).is_none(), "domain {name} left");
    assert!(
        !virsh(URI, &["list", "--all", "--name"]).contains(name),
        "libvirt still has {name}"
    );
    assert_eq!(files_with(name), Vec::<String>::new(), "files left");
    let pools = virsh(URI, &["pool-list", "--all", "--name"]);
    assert!(
        !pools.contains("vireo-job"),
        "a job's pool is left: {pools}"
    );
}

fn settle_events() {
    kit::pump(Duration::from_millis(500));
}

fn clone_beside_original() {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&work_dir().join("vireo-test-orig.qcow2"));
    let c = open();
    let d = define(
        &c,
        guest.domain_xml("vireo-test-orig", Boot::Kernel, Some(&disk)),
    );
    start(&c, &d);
    let plan = block_on(c.prepare_clone(&d)).expect("a plan");
    assert!(
        plan.needs_shutdown,
        "QEMU holds the running original's disks"
    );
    let refused = block_on(c.clone_domain(
        &d,
        plan,
        CloneRequest {
            name: "vireo-test-orig-clone".into(),
            disks: vec![],
        },
    ));
    assert!(refused.is_err());
    kit::model::act(&c, &d, vireo::model::DomainAction::ForceOff);
    wait_until("the original shut off", EVENT, || {
        d.state() == DomainState::Shutoff
    });

    let plan = block_on(c.prepare_clone(&d)).expect("a plan");
    assert_eq!(plan.name, "vireo-test-orig-clone");
    assert!(!plan.needs_shutdown);
    let vda = &plan.disks[0];
    assert_eq!(
        vda.actions,
        vec![DiskAction::Copy, DiskAction::Overlay, DiskAction::Share]
    );
    assert_eq!(vda.new_volume, "vireo-test-orig-clone.qcow2");

    let texts = Rc::new(RefCell::new(Vec::<String>::new()));
    let t = texts.clone();
    d.connect_notify_local(Some("operation"), move |d, _| {
        if let Some(op) = d.operation() {
            let t = t.clone();
            op.connect_notify_local(Some("text"), move |op, _| t.borrow_mut().push(op.text()));
        }
    });
    let name = plan.name.clone();
    let start_t = Instant::now();
    let uuid = block_on(c.clone_domain(
        &d,
        plan,
        CloneRequest {
            name: name.clone(),
            disks: vec![],
        },
    ))
    .unwrap_or_else(|e| panic!("{}", e.text()));
    println!(
        "  clone of the 64 MiB-disk guest: {:.2} s",
        start_t.elapsed().as_secs_f64()
    );
    let texts = texts.borrow().clone();
    assert!(
        texts.iter().any(|t| t.starts_with("Copying disk vda")),
        "{texts:?}"
    );

    let clone = wait_until("the clone in the list", EVENT, || {
        c.domains().by_uuid(&uuid)
    });
    assert_eq!(clone.name(), name);
    assert_ne!(clone.uuid(), d.uuid());
    // Both run side by side.
    let con = boot(&c, &d);
    let con2 = boot(&c, &clone);
    assert_eq!(d.state(), DomainState::Running);
    let (mac1, mac2) = (mac_in_xml(&c, &d), mac_in_xml(&c, &clone));
    assert_ne!(mac1, mac2, "the clone has a MAC address of its own");
    assert_eq!(con.ask("M1", "cat /sys/class/net/eth0/address"), mac1);
    assert_eq!(con2.ask("M2", "cat /sys/class/net/eth0/address"), mac2);
    // Its disk is a copy of its own, beside the original's.
    let xml = block_on(c.domain_xml(&clone, true)).unwrap();
    let copy = work_dir().join("vireo-test-orig-clone.qcow2");
    assert!(
        xml.contains(&format!("<source file='{}'/>", copy.display())),
        "{xml}"
    );
    assert!(copy.exists());
    drop((con, con2));
    remove(&c, &clone);
    remove(&c, &d);
    c.close();
}

fn overlay_clone() {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&work_dir().join("vireo-test-base.qcow2"));
    let c = open();
    let d = define(
        &c,
        guest.domain_xml("vireo-test-base", Boot::Kernel, Some(&disk)),
    );
    let plan = block_on(c.prepare_clone(&d)).expect("a plan");
    assert!(plan.disks[0].actions.contains(&DiskAction::Overlay));
    let uuid = block_on(c.clone_domain(
        &d,
        plan,
        CloneRequest {
            name: "vireo-test-thin".into(),
            disks: vec![("vda".into(), DiskAction::Overlay)],
        },
    ))
    .unwrap_or_else(|e| panic!("{}", e.text()));
    let clone = wait_until("the clone in the list", EVENT, || {
        c.domains().by_uuid(&uuid)
    });
    let file = work_dir().join("vireo-test-thin.qcow2");
    let info = testbed::run_ok(Command::new("qemu-img").args(["info", "-U"]).arg(&file));
    assert!(
        info.contains(&format!("backing file: {}", disk.display())),
        "{info}"
    );
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 1 << 20, "a thin overlay, not a copy: {size} bytes");
    let con = boot(&c, &clone);
    assert!(con.text().contains("VIREO-GUEST-DISK vda VIREO-DATA-DISK"));
    drop(con);
    remove(&c, &clone);
    remove(&c, &d);
    c.close();
}

/// A shut-off domain with a raw disk of `mib` MiB of random data (copies take time).
fn big_domain(c: &ConnectionObject, name: &str, mib: u64) -> DomainObject {
    let guest = Guest::get().unwrap();
    let disk = work_dir().join(format!("{name}.img"));
    testbed::run_ok(
        Command::new("dd")
            .args(["if=/dev/urandom", "bs=1M", "status=none"])
            .arg(format!("of={}", disk.display()))
            .arg(format!("count={mib}")),
    );
    let xml = guest
        .domain_xml(name, Boot::Kernel, Some(&disk))
        .replace("type='qcow2'", "type='raw'");
    define(c, xml)
}

fn cancel_leaves_nothing() {
    let c = open();
    let d = big_domain(&c, "vireo-test-big", 768);
    let plan = block_on(c.prepare_clone(&d)).expect("a plan");
    let name = plan.name.clone();
    let texts = Rc::new(RefCell::new(Vec::<String>::new()));
    let t = texts.clone();
    d.connect_notify_local(Some("operation"), move |d, _| {
        if let Some(op) = d.operation() {
            assert!(op.cancellable());
            let t = t.clone();
            op.connect_notify_local(Some("text"), move |op, _| {
                let text = op.text();
                // Cancel as soon as the copy is under way.
                if text.starts_with("Copying disk") && op.cancellable() {
                    op.cancel();
                }
                t.borrow_mut().push(text);
            });
        }
    });
    let r = block_on(c.clone_domain(
        &d,
        plan,
        CloneRequest {
            name: name.clone(),
            disks: vec![],
        },
    ));
    let e = r.expect_err("cancelled");
    assert!(e.is_cancelled(), "{}", e.text());
    let texts = texts.borrow().clone();
    assert!(
        texts.iter().any(|t| t.contains("cannot stop copying")),
        "said why Cancel waits: {texts:?}"
    );
    assert!(texts.iter().any(|t| t.starts_with("Removing")), "{texts:?}");
    nothing_left(&c, &name);
    remove(&c, &d);
    c.close();
}

fn failure_leaves_nothing() {
    let guest = Guest::get().unwrap();
    let c = open();
    let disk = guest.overlay(&work_dir().join("vireo-test-half.qcow2"));
    let gone = work_dir().join("vireo-test-half-data.qcow2");
    // A second disk whose file is missing: the first copy is made, the second fails.
    let xml = guest
        .domain_xml("vireo-test-half", Boot::Kernel, Some(&disk))
        .replace(
            "</devices>",
            &format!(
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='vdb' bus='virtio'/></disk></devices>",
                gone.display()
            ),
        );
    let d = define(&c, xml);
    let plan = block_on(c.prepare_clone(&d)).expect("a plan");
    let name = plan.name.clone();
    let e = block_on(c.clone_domain(
        &d,
        plan,
        CloneRequest {
            name: name.clone(),
            disks: vec![],
        },
    ))
    .expect_err("the missing disk fails the clone");
    assert!(!e.is_cancelled());
    // libvirt's own words.
    assert!(
        e.text().contains(&gone.display().to_string()),
        "{}",
        e.text()
    );
    nothing_left(&c, &name);
    assert!(
        Path::new(&disk).exists(),
        "the original's disk is untouched"
    );
    remove(&c, &d);
    c.close();
}
