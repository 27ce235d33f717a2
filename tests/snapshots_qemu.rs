//! Snapshots of the test-bed guest on the private daemon's `qemu:///system`, through
//! Vireo's model: a file written inside the guest (on an ext4 file system the test
//! makes on the guest's own qcow2 overlay, and one in its memory), a snapshot with
//! memory, the file changed, the snapshot reverted and the first content read back;
//! the same with the guest shut off; deleting a snapshot with its children; a UEFI
//! guest, whose snapshot is external and which the plan says libvirt 9.0 cannot
//! revert to, before it is made.
//!
//! Needs root, QEMU, libvirtd and OVMF (`tools/install-deps.sh test`).

mod kit;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use kit::console::SerialConsole;
use kit::model::{act, connect, define, remove, start};
use kit::testbed::{self, daemon, Boot, Guest, Need, SystemDaemon, READY_LINE};
use kit::{block_on, test, wait_until, Runner, BOOT, EVENT};
use vireo::model::snapshots::{
    plan_create, plan_delete, plan_revert, snapshot_thumbnail, AfterRevert, CreateRequest,
    ExternalReason, Location, Loss, RevertBlock, RevertStart, SnapshotEntry, SnapshotState,
};
use vireo::model::{ConnectionObject, DomainAction, DomainObject, DomainState};

const URI: &str = SystemDaemon::URI;
const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

fn main() {
    testbed::require(&[Need::Daemon, Need::Guest]);
    if !Path::new(OVMF_CODE).exists() {
        kit::skip_or_fail("OVMF is missing (tools/install-deps.sh test installs ovmf)");
    }
    Runner::new().run(vec![
        test("memory_snapshot_brings_the_file_back", memory_snapshot).limit(300),
        test("offline_snapshot_brings_the_file_back", offline_snapshot).limit(400),
        test("delete_with_children", delete_with_children).limit(200),
        test("uefi_snapshot_is_external_and_said_so", uefi_snapshot).limit(300),
    ]);
}

fn work_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = testbed::temp_dir("snapshots");
        // Thumbnails go to a cache of the test's own.
        std::env::set_var("XDG_CACHE_HOME", d.join("cache"));
        d
    })
    .clone()
}

fn open() -> ConnectionObject {
    daemon();
    connect(URI)
}

/// A guest on an overlay of its own, defined (not started).
fn guest_domain(c: &ConnectionObject, name: &str, uefi: bool) -> (DomainObject, PathBuf) {
    let guest = Guest::get().unwrap();
    let disk = guest.overlay(&work_dir().join(format!("{name}.qcow2")));
    let mut xml = guest.domain_xml(name, Boot::Kernel, Some(&disk));
    if uefi {
        let nvram = work_dir().join(format!("{name}_VARS.fd"));
        xml = xml.replace(
            "<type arch='x86_64' machine='pc'>hvm</type>",
            &format!(
                "<type arch='x86_64' machine='q35'>hvm</type>\
                 <loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>\
                 <nvram template='{OVMF_VARS}'>{}</nvram>",
                nvram.display()
            ),
        );
    }
    (define(c, xml), disk)
}

/// Starts `d` and waits for the guest's shell.
fn boot(c: &ConnectionObject, d: &DomainObject) -> SerialConsole {
    start(c, d);
    let con = SerialConsole::of(c, d);
    con.wait_lines(READY_LINE, 1, BOOT);
    con
}

/// Asks the guest to power off (ACPI) and waits until it is shut off.
fn power_off(c: &ConnectionObject, d: &DomainObject) {
    act(c, d, DomainAction::Shutdown);
    wait_until(&format!("{} shut off", d.name()), BOOT, || {
        d.state() == DomainState::Shutoff
    });
}

fn entries(c: &ConnectionObject, d: &DomainObject) -> Vec<SnapshotEntry> {
    block_on(c.snapshots(d)).expect("the snapshot list")
}

/// Plans and takes a snapshot named `name`; returns the seconds it took.
fn take(c: &ConnectionObject, d: &DomainObject, name: &str, memory: bool) -> f64 {
    let facts = block_on(c.snapshot_facts(d)).expect("facts");
    let req = CreateRequest {
        name: name.into(),
        description: format!("{name} made by the test"),
        with_memory: memory,
    };
    let plan = plan_create(
        &facts.xml,
        &facts.name,
        facts.active,
        &req,
        &facts.snapshots,
        facts.support,
    )
    .expect("a plan");
    assert_eq!(plan.location, Location::Internal, "{plan:?}");
    assert!(plan.revertible);
    let t = Instant::now();
    let info = block_on(c.create_snapshot(d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(info.name, name);
    assert!(info.is_current);
    secs
}

/// Reverts to `name` as planned; returns the plan's losses and the seconds it took.
fn revert(c: &ConnectionObject, d: &DomainObject, name: &str) -> (Vec<Loss>, AfterRevert, f64) {
    let facts = block_on(c.snapshot_facts(d)).expect("facts");
    let snap = facts
        .snapshots
        .iter()
        .find(|s| s.name == name)
        .expect("the snapshot");
    let plan = plan_revert(
        snap,
        facts.active,
        facts.managed_save,
        RevertStart::AsTaken,
        facts.support,
    );
    assert_eq!(plan.blocked, None);
    let (loses, after) = (plan.loses.clone(), plan.after);
    let t = Instant::now();
    block_on(c.revert_snapshot(d, name, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    (loses, after, t.elapsed().as_secs_f64())
}

fn memory_snapshot() {
    let c = open();
    let (d, _) = guest_domain(&c, "vireo-test-snapmem", false);
    let con = boot(&c, &d);
    let made = con.ask(
        "A1",
        "mkdir -p /mnt && mke2fs -q /dev/vda >/dev/null 2>&1 && mount /dev/vda /mnt && \
         echo FIRST > /mnt/note && sync && echo FIRST > /root/in-memory && cat /mnt/note",
    );
    assert_eq!(made, "FIRST");

    let secs = take(&c, &d, "before", true);
    println!("  snapshot with memory (192 MiB guest): {secs:.2} s");
    let list = entries(&c, &d);
    assert_eq!(list.len(), 1);
    let s = &list[0].info;
    assert!(s.is_current && s.has_memory(), "{s:?}");
    assert_eq!(s.state, SnapshotState::Running);
    assert_eq!(s.description, "before made by the test");
    let thumb = snapshot_thumbnail(&d, "before").expect("a thumbnail of the running guest");
    let pic = gtk::gdk_pixbuf::Pixbuf::from_file(&thumb).expect("a PNG");
    assert_eq!(pic.width(), 320, "scaled down from the 720 px VGA screen");

    assert_eq!(
        con.ask(
            "A2",
            "echo SECOND > /mnt/note && sync && echo SECOND > /root/in-memory && cat /mnt/note"
        ),
        "SECOND"
    );
    let (loses, after, secs) = revert(&c, &d, "before");
    println!("  revert to the snapshot with memory: {secs:.2} s");
    assert_eq!(loses, vec![Loss::RunningState, Loss::DiskChanges]);
    assert_eq!(after, AfterRevert::Running, "a running VM keeps running");
    wait_until("running after the revert", EVENT, || {
        d.state() == DomainState::Running
    });
    // libvirt 9.0 reverts a running domain by starting a new QEMU from the snapshot:
    // the old console stream ends and a new one opens on the same shell, in the state
    // it was in when the snapshot was taken.
    wait_until("the old console to end", EVENT, || con.closed());
    let con = SerialConsole::of(&c, &d);
    assert_eq!(
        con.ask("A3", "cat /mnt/note /root/in-memory | tr '\\n' ' '"),
        "FIRST FIRST"
    );

    // Editing the description redefines the snapshot and keeps it current.
    block_on(c.set_snapshot_description(&d, "before", "edited <text> & more")).unwrap();
    let s = &entries(&c, &d)[0].info;
    assert_eq!(s.description, "edited <text> & more");
    assert!(s.is_current, "still the current snapshot after the edit");

    drop(con);
    remove(&c, &d);
    c.close();
}

fn offline_snapshot() {
    let c = open();
    let (d, _) = guest_domain(&c, "vireo-test-snapoff", false);
    let con = boot(&c, &d);
    assert_eq!(
        con.ask(
            "B1",
            "mkdir -p /mnt && mke2fs -q /dev/vda >/dev/null 2>&1 && mount /dev/vda /mnt && \
             echo FIRST > /mnt/note && umount /mnt && echo done"
        ),
        "done"
    );
    drop(con);
    power_off(&c, &d);

    let secs = take(&c, &d, "clean", true);
    println!("  snapshot of the shut-off guest: {secs:.2} s");
    let s = &entries(&c, &d)[0].info;
    assert!(!s.has_memory(), "a shut-off VM has no memory to keep");
    assert_eq!(s.state, SnapshotState::Shutoff);
    assert_eq!(snapshot_thumbnail(&d, "clean"), None);

    let con = boot(&c, &d);
    assert_eq!(
        con.ask(
            "B2",
            "mkdir -p /mnt && mount /dev/vda /mnt && echo SECOND > /mnt/note && \
             cat /mnt/note && umount /mnt"
        ),
        "SECOND"
    );
    drop(con);
    power_off(&c, &d);

    let (loses, after, _) = revert(&c, &d, "clean");
    assert_eq!(loses, vec![Loss::DiskChanges]);
    assert_eq!(after, AfterRevert::ShutOff);
    assert_eq!(d.state(), DomainState::Shutoff);
    let con = boot(&c, &d);
    assert_eq!(
        con.ask(
            "B3",
            "mkdir -p /mnt && mount /dev/vda /mnt && cat /mnt/note"
        ),
        "FIRST"
    );
    drop(con);
    remove(&c, &d);
    c.close();
}

fn tree_names(list: &[SnapshotEntry]) -> Vec<(String, usize)> {
    list.iter()
        .map(|e| (e.info.name.clone(), e.depth))
        .collect()
}

fn delete_with_children() {
    let c = open();
    let (d, disk) = guest_domain(&c, "vireo-test-snapdel", false);
    // s1 -> s2 -> s3, and s1 -> s4 (made after going back to s1).
    for name in ["s1", "s2", "s3"] {
        take(&c, &d, name, false);
    }
    revert(&c, &d, "s1");
    take(&c, &d, "s4", false);
    let list = entries(&c, &d);
    let names = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
        v.iter().map(|(n, k)| (n.to_string(), *k)).collect()
    };
    assert_eq!(
        tree_names(&list),
        names(&[("s1", 0), ("s2", 1), ("s3", 2), ("s4", 1)])
    );
    assert!(
        list.iter()
            .find(|e| e.info.name == "s4")
            .unwrap()
            .info
            .is_current
    );

    let facts = block_on(c.snapshot_facts(&d)).unwrap();
    let plan = plan_delete(&facts.snapshots, "s2", true, &facts.xml).unwrap();
    assert_eq!(plan.names(), vec!["s2", "s3"]);
    assert!(!plan.metadata_only() && plan.files_kept.is_empty());
    let left = block_on(c.delete_snapshots(&d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert!(left.is_empty());
    assert_eq!(tree_names(&entries(&c, &d)), names(&[("s1", 0), ("s4", 1)]));

    let facts = block_on(c.snapshot_facts(&d)).unwrap();
    let plan = plan_delete(&facts.snapshots, "s1", true, &facts.xml).unwrap();
    block_on(c.delete_snapshots(&d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert!(entries(&c, &d).is_empty());
    // The internal snapshots are gone from the image itself, not just from libvirt.
    let out = testbed::run_ok(
        std::process::Command::new("qemu-img")
            .args(["snapshot", "-l", "-U"])
            .arg(&disk),
    );
    assert!(out.trim().is_empty(), "left in the image:\n{out}");
    remove(&c, &d);
    c.close();
}

fn uefi_snapshot() {
    let c = open();
    let (d, disk) = guest_domain(&c, "vireo-test-snapuefi", true);
    let con = boot(&c, &d);
    let facts = block_on(c.snapshot_facts(&d)).unwrap();
    let req = CreateRequest {
        name: "uefi".into(),
        description: String::new(),
        with_memory: true,
    };
    let plan = plan_create(
        &facts.xml,
        &facts.name,
        true,
        &req,
        &facts.snapshots,
        facts.support,
    )
    .unwrap();
    // Said before anything is made: external, and not revertible on this libvirt.
    assert_eq!(plan.location, Location::External);
    assert_eq!(plan.why_external, vec![ExternalReason::Pflash]);
    assert_eq!(
        plan.revertible,
        facts.support.libvirt_version >= vireo::model::snapshots::EXTERNAL_REVERT_SINCE
    );
    let overlay = plan.overlays[0].1.clone();
    let memory = plan.memory_file.clone().expect("a memory file");
    block_on(c.create_snapshot(&d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert!(Path::new(&overlay).exists() && Path::new(&memory).exists());
    let s = entries(&c, &d)[0].info.clone();
    assert!(s.is_external() && s.has_memory());
    // The guest goes on, now writing into the overlay.
    assert_eq!(con.ask("C1", "echo alive"), "alive");

    let facts = block_on(c.snapshot_facts(&d)).unwrap();
    let revert = plan_revert(&s, true, false, RevertStart::AsTaken, facts.support);
    if facts.support.libvirt_version < vireo::model::snapshots::EXTERNAL_REVERT_SINCE {
        assert_eq!(
            revert.blocked,
            Some(RevertBlock::External {
                libvirt_version: facts.support.libvirt_version
            })
        );
        // And libvirt agrees: asked anyway, it refuses with its own words.
        let mut forced = revert.clone();
        forced.blocked = None;
        let e = block_on(c.revert_snapshot(&d, "uefi", forced)).unwrap_err();
        assert!(e.text().contains("external"), "{}", e.text());
    }

    // Deleting it merges the overlay back (it is on top of the chain); libvirt keeps
    // the memory file, and the plan says so.
    let plan = plan_delete(&facts.snapshots, "uefi", false, &facts.xml).unwrap();
    assert!(!plan.metadata_only());
    let left = block_on(c.delete_snapshots(&d, plan)).unwrap_or_else(|e| panic!("{}", e.text()));
    assert_eq!(left, vec![memory.clone()]);
    assert!(!Path::new(&overlay).exists(), "merged and removed");
    let live = block_on(c.domain_xml(&d, false)).unwrap();
    assert!(
        live.contains(&format!("<source file='{}'", disk.display())),
        "{live}"
    );
    assert_eq!(con.ask("C2", "echo still"), "still");
    let _ = std::fs::remove_file(memory);
    drop(con);
    remove(&c, &d);
    c.close();
}
