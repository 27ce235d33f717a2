use super::*;
use crate::virt::snapshot::info::MemorySnapshot;

const QEMU_9_0: SnapshotSupport = SnapshotSupport {
    libvirt_version: 9_000_000,
    qemu: true,
};
const QEMU_9_7: SnapshotSupport = SnapshotSupport {
    libvirt_version: 9_007_000,
    qemu: true,
};

fn domain(os: &str, disks: &str) -> String {
    format!(
        "<domain type='qemu'><name>vm</name><os>{os}</os><devices>{disks}\
         <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
         <source file='/isos/d.iso'/><target dev='sda'/><readonly/></disk>\
         </devices></domain>"
    )
}

const BIOS: &str = "<type arch='x86_64' machine='pc'>hvm</type>";
const UEFI: &str = "<type arch='x86_64' machine='q35'>hvm</type>\
     <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\
     <nvram>/var/lib/libvirt/qemu/nvram/vm_VARS.fd</nvram>";
const QCOW2: &str = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
     <source file='/images/vm.qcow2'/><target dev='vda'/></disk>";
const RAW: &str = "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
     <source file='/images/data.img'/><target dev='vdb'/></disk>";

fn ask(name: &str, memory: bool) -> CreateRequest {
    CreateRequest {
        name: name.into(),
        description: "before <it> & after".into(),
        with_memory: memory,
    }
}

#[test]
fn qcow2_disks_get_internal_snapshots_with_or_without_memory() {
    let xml = domain(BIOS, QCOW2);
    let running = plan_create(&xml, "vm", true, &ask("s1", true), &[], QEMU_9_0).unwrap();
    assert_eq!(running.location, Location::Internal);
    assert!(running.with_memory && running.revertible);
    assert!(running.why_external.is_empty());
    assert_eq!(running.flags, 0);
    assert_eq!(running.skipped, vec!["sda"]);
    assert_eq!(
        running.xml,
        "<domainsnapshot>\n  <name>s1</name>\n  \
         <description>before &lt;it&gt; &amp; after</description>\n</domainsnapshot>\n"
    );
    let off = plan_create(&xml, "vm", false, &ask("s1", true), &[], QEMU_9_0).unwrap();
    assert_eq!(off.location, Location::Internal);
    assert!(!off.with_memory, "a shut-off VM has no memory to keep");
}

#[test]
fn uefi_vms_get_external_snapshots_that_libvirt_9_0_cannot_revert() {
    let xml = domain(UEFI, QCOW2);
    let p = plan_create(
        &xml,
        "vm",
        true,
        &ask("before upgrade", true),
        &[],
        QEMU_9_0,
    )
    .unwrap();
    assert_eq!(p.location, Location::External);
    assert_eq!(p.why_external, vec![ExternalReason::Pflash]);
    assert!(!p.revertible, "said before creating, not after");
    assert_eq!(
        p.overlays,
        vec![(
            "vda".to_owned(),
            "/images/vm-before_upgrade.qcow2".to_owned()
        )]
    );
    assert_eq!(
        p.memory_file.as_deref(),
        Some("/images/vm-before_upgrade.mem")
    );
    assert_eq!(p.flags, sys::VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC);
    assert!(p
        .xml
        .contains("<memory snapshot='external' file='/images/vm-before_upgrade.mem'/>"));
    assert!(p.xml.contains(
        "<disk name='vda' snapshot='external' type='file'>\n      <driver type='qcow2'/>\n      \
         <source file='/images/vm-before_upgrade.qcow2'/>"
    ));
    assert!(p.xml.contains("<disk name='sda' snapshot='no'/>"));
    let doc = roxmltree::Document::parse(&p.xml).expect("well-formed");
    assert_eq!(doc.root_element().tag_name().name(), "domainsnapshot");

    // Newer libvirt reverts them.
    let later = plan_create(&xml, "vm", true, &ask("s", true), &[], QEMU_9_7).unwrap();
    assert!(later.revertible);

    // firmware='efi' without a loader element is pflash too.
    let auto = domain("<type arch='x86_64' machine='q35'>hvm</type>", QCOW2)
        .replace("<os>", "<os firmware='efi'>");
    assert!(uses_pflash(&auto).unwrap());
    assert!(!uses_pflash(&domain(BIOS, QCOW2)).unwrap());
}

#[test]
fn raw_disks_and_running_vms_without_memory_go_external() {
    let xml = domain(BIOS, &format!("{QCOW2}{RAW}"));
    let p = plan_create(&xml, "vm", false, &ask("s", false), &[], QEMU_9_0).unwrap();
    assert_eq!(p.location, Location::External);
    assert_eq!(
        p.why_external,
        vec![ExternalReason::DiskFormat {
            target: "vdb".into(),
            format: "raw".into()
        }]
    );
    assert_eq!(
        p.flags,
        sys::VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | sys::VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
    );
    assert_eq!(p.overlays.len(), 2);
    assert_eq!(p.overlays[1].1, "/images/data-s.qcow2");

    let q = domain(BIOS, QCOW2);
    let p = plan_create(&q, "vm", true, &ask("s", false), &[], QEMU_9_0).unwrap();
    assert_eq!(p.why_external, vec![ExternalReason::RunningWithoutMemory]);
    assert!(!p.revertible && !p.with_memory && p.memory_file.is_none());
}

#[test]
fn names_are_checked_before_anything_else() {
    let xml = domain(BIOS, QCOW2);
    let existing = vec![SnapshotInfo {
        name: "s1".into(),
        ..Default::default()
    }];
    let plan = |n: &str| plan_create(&xml, "vm", true, &ask(n, true), &existing, QEMU_9_0);
    assert_eq!(plan("  "), Err(PlanError::EmptyName));
    assert_eq!(plan("s1"), Err(PlanError::NameTaken("s1".into())));
    assert_eq!(plan("a/b"), Err(PlanError::NameInvalid('/')));
    assert!(plan("s2").is_ok());
    let diskless = domain(BIOS, "");
    assert_eq!(
        plan_create(&diskless, "vm", true, &ask("s", true), &[], QEMU_9_0),
        Err(PlanError::NoDisk)
    );
}

#[test]
fn mixing_kinds_is_noticed_and_other_drivers_decide_themselves() {
    let xml = domain(UEFI, QCOW2);
    let internal = vec![SnapshotInfo {
        name: "old".into(),
        memory: MemorySnapshot::Internal,
        ..Default::default()
    }];
    let p = plan_create(&xml, "vm", true, &ask("s", true), &internal, QEMU_9_0).unwrap();
    assert!(p.mixes_kinds);
    let test_driver = SnapshotSupport {
        libvirt_version: 9_000_000,
        qemu: false,
    };
    let p = plan_create(&xml, "vm", true, &ask("s", true), &[], test_driver).unwrap();
    assert_eq!(p.location, Location::Internal);
    assert!(p.revertible);
}

fn snapshot(xml: &str) -> SnapshotInfo {
    SnapshotInfo::parse(xml).unwrap()
}

#[test]
fn revert_says_what_is_lost_and_blocks_external_on_9_0() {
    let with_memory = snapshot(
        "<domainsnapshot><name>m</name><state>running</state>\
         <memory snapshot='internal'/><disks><disk name='vda' snapshot='internal'/></disks>\
         </domainsnapshot>",
    );
    let p = plan_revert(&with_memory, true, false, RevertStart::AsTaken, QEMU_9_0);
    assert_eq!(p.blocked, None);
    assert_eq!(p.after, AfterRevert::Running, "a running VM keeps running");
    assert_eq!(p.loses, vec![Loss::RunningState, Loss::DiskChanges]);
    assert_eq!(p.flags, 0);

    let off = snapshot(
        "<domainsnapshot><name>o</name><state>shutoff</state><memory snapshot='no'/>\
         <disks><disk name='vda' snapshot='internal'/></disks></domainsnapshot>",
    );
    let p = plan_revert(&off, false, true, RevertStart::AsTaken, QEMU_9_0);
    assert_eq!(p.after, AfterRevert::ShutOff);
    assert_eq!(p.loses, vec![Loss::DiskChanges, Loss::ManagedSave]);
    assert!(p.remove_managed_save);
    let p = plan_revert(&off, true, false, RevertStart::Running, QEMU_9_0);
    assert_eq!(p.after, AfterRevert::Running);
    assert_eq!(p.flags, sys::VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING);

    let external = snapshot(
        "<domainsnapshot><name>e</name><state>running</state>\
         <memory snapshot='external' file='/i/e.mem'/><disks><disk name='vda' \
         snapshot='external'><source file='/i/vm-e.qcow2'/></disk></disks></domainsnapshot>",
    );
    let p = plan_revert(&external, true, false, RevertStart::AsTaken, QEMU_9_0);
    assert_eq!(
        p.blocked,
        Some(RevertBlock::External {
            libvirt_version: 9_000_000
        })
    );
    assert_eq!(
        plan_revert(&external, true, false, RevertStart::AsTaken, QEMU_9_7).blocked,
        None
    );
}

#[test]
fn delete_goes_metadata_only_where_libvirt_cannot_merge() {
    let internal = |name: &str, parent: Option<&str>, t: i64| SnapshotInfo {
        name: name.into(),
        parent: parent.map(Into::into),
        created: t,
        memory: MemorySnapshot::Internal,
        ..Default::default()
    };
    let external = |name: &str, parent: Option<&str>, t: i64, overlay: &str| SnapshotInfo {
        name: name.into(),
        parent: parent.map(Into::into),
        created: t,
        memory: MemorySnapshot::External(format!("/i/{name}.mem")),
        disks: vec![crate::virt::snapshot::info::SnapshotDisk {
            target: "vda".into(),
            mode: DiskMode::External,
            overlay: Some(overlay.into()),
        }],
        ..Default::default()
    };
    let all = vec![
        internal("a", None, 1),
        internal("b", Some("a"), 2),
        internal("c", Some("b"), 3),
        external("e1", Some("a"), 4, "/i/vm-e1.qcow2"),
        external("e2", Some("e1"), 5, "/i/vm-e2.qcow2"),
    ];
    // The VM now writes into e2's overlay, on top of e1's.
    let live = "<domain><name>vm</name><devices><disk type='file' device='disk'>\
                <driver type='qcow2'/><source file='/i/vm-e2.qcow2'/>\
                <backingStore type='file'><source file='/i/vm-e1.qcow2'/>\
                <backingStore type='file'><source file='/i/vm.qcow2'/></backingStore>\
                </backingStore><target dev='vda'/></disk></devices></domain>";
    let p = plan_delete(&all, "b", true, live).unwrap();
    assert_eq!(p.names(), vec!["b", "c"]);
    assert_eq!(p.steps[0].name, "c", "children go first");
    assert!(!p.metadata_only() && p.files_kept.is_empty());
    assert_eq!(p.steps[1].flags(), 0);

    let p = plan_delete(&all, "e2", false, live).unwrap();
    assert!(!p.metadata_only(), "its overlay is on top of the chain");
    assert_eq!(
        p.files_kept,
        vec!["/i/e2.mem"],
        "libvirt keeps memory files"
    );

    let p = plan_delete(&all, "e1", true, live).unwrap();
    assert_eq!(p.names(), vec!["e1", "e2"]);
    assert!(!p.metadata_only(), "both overlays are in the chain");

    // Reverted away from the external branch: the overlays are out of the chain.
    let reverted = live.replace("/i/vm-e2.qcow2", "/i/vm.qcow2").replace(
        "<backingStore type='file'><source file='/i/vm-e1.qcow2'/>\
         <backingStore type='file'><source file='/i/vm.qcow2'/></backingStore>\
         </backingStore>",
        "",
    );
    let p = plan_delete(&all, "e2", false, &reverted).unwrap();
    assert!(p.metadata_only());
    assert_eq!(p.files_kept, vec!["/i/e2.mem", "/i/vm-e2.qcow2"]);
    assert_eq!(
        p.steps[0].flags(),
        sys::VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY
    );
}
