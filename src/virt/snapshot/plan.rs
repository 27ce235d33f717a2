//! What a snapshot operation will do, worked out before it is done (pure functions).
//!
//! libvirt 9.0 (Debian 12) makes internal snapshots only when every disk it snapshots
//! is qcow2 and the firmware is not a pflash (UEFI) one, and a running domain's
//! disk-only snapshot must be external; but it cannot revert to an external snapshot
//! (that came with 9.7), nor delete one whose overlay is no longer in the disk's chain.
//! A person must hear that before creating such a snapshot, so [`plan_create`] says
//! which kind a new snapshot will be, why, and whether this host can go back to it.

use virt::sys;

use super::info::{DiskMode, SnapshotInfo, SnapshotState};
use crate::virt::storage::{disks_from_xml, XmlDisk};
use crate::virt::xml_edits::escape;
use crate::virt::VirtError;

/// The first libvirt release that reverts to external snapshots.
pub const EXTERNAL_REVERT_SINCE: u64 = 9_007_000;

/// What the host's driver can do with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotSupport {
    /// `virConnectGetLibVersion` of the connection (the daemon's on a remote host).
    pub libvirt_version: u64,
    /// The QEMU driver, whose rules this module knows; other drivers (the test
    /// driver) get plain snapshots and decide for themselves.
    pub qemu: bool,
}

impl SnapshotSupport {
    /// True when this libvirt reverts to external snapshots.
    pub fn reverts_external(&self) -> bool {
        !self.qemu || self.libvirt_version >= EXTERNAL_REVERT_SINCE
    }
}

/// Where a snapshot's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Inside the qcow2 disk images.
    Internal,
    /// New overlay files take the disks' writes; memory goes to a file.
    External,
}

/// Why a snapshot has to be external.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalReason {
    /// UEFI firmware with its variables in a pflash file.
    Pflash,
    /// A disk that is not qcow2 (its target and format).
    DiskFormat { target: String, format: String },
    /// A running VM's disks without its memory.
    RunningWithoutMemory,
}

/// Why no snapshot can be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the snapshot needs a name")]
    EmptyName,
    #[error("a snapshot named {0} exists already")]
    NameTaken(String),
    #[error("a snapshot name cannot contain {0:?}")]
    NameInvalid(char),
    #[error("the VM has no disk a snapshot could keep")]
    NoDisk,
    #[error("disk {0} is on the network; an external snapshot cannot put an overlay on it")]
    NetworkDisk(String),
    #[error(transparent)]
    Xml(#[from] VirtError),
}

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateRequest {
    pub name: String,
    pub description: String,
    /// Keep the running VM's memory (ignored for a VM that is not running).
    pub with_memory: bool,
}

/// What creating the snapshot will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePlan {
    /// The new snapshot's name.
    pub name: String,
    pub location: Location,
    /// The snapshot keeps the VM's memory (reverting resumes it where it was).
    pub with_memory: bool,
    /// Why it is external (empty for internal).
    pub why_external: Vec<ExternalReason>,
    /// False when this host's libvirt cannot revert to the snapshot once made.
    pub revertible: bool,
    /// The overlay file each snapshotted disk gets (external only): target, path.
    pub overlays: Vec<(String, String)>,
    /// The file the memory goes to (external with memory).
    pub memory_file: Option<String>,
    /// Disks the snapshot leaves out: CD-ROMs, floppies, read-only and shared disks.
    pub skipped: Vec<String>,
    /// Other snapshots of this VM are of the other kind (virt-manager warns about
    /// mixing them; so do we).
    pub mixes_kinds: bool,
    /// `<domainsnapshot>` for `virDomainSnapshotCreateXML`.
    pub xml: String,
    /// `VIR_DOMAIN_SNAPSHOT_CREATE_*` flags.
    pub flags: u32,
}

/// Checks a new snapshot's name against libvirt's rules and the existing ones.
pub fn check_name(name: &str, existing: &[SnapshotInfo]) -> Result<(), PlanError> {
    if name.trim().is_empty() {
        return Err(PlanError::EmptyName);
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || c.is_control()) {
        return Err(PlanError::NameInvalid(c));
    }
    if existing.iter().any(|s| s.name == name) {
        return Err(PlanError::NameTaken(name.to_owned()));
    }
    Ok(())
}

/// True when the domain boots UEFI firmware from pflash (its variables in NVRAM).
pub fn uses_pflash(domain_xml: &str) -> Result<bool, VirtError> {
    let doc = roxmltree::Document::parse(domain_xml).map_err(|e| VirtError::Xml(e.to_string()))?;
    let Some(os) = doc.root_element().children().find(|n| n.has_tag_name("os")) else {
        return Ok(false);
    };
    let loader_type = os
        .children()
        .find(|n| n.has_tag_name("loader"))
        .and_then(|l| l.attribute("type"));
    Ok(loader_type == Some("pflash")
        || (os.attribute("firmware") == Some("efi") && loader_type != Some("rom"))
        || os.children().any(|n| n.has_tag_name("nvram")))
}

/// A disk the snapshot keeps (as opposed to a CD-ROM or a shared disk).
fn is_snapshotted(d: &XmlDisk) -> bool {
    matches!(d.device.as_str(), "disk" | "lun")
        && !d.shared
        && (d.path.is_some() || d.pool_volume.is_some() || d.kind == "network")
}

/// A name usable inside a file name.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (".", path),
    }
}

/// `/dir/disk.qcow2` + `snap` -> `/dir/disk-snap.qcow2`.
fn overlay_path(source: &str, snapshot: &str) -> String {
    let (dir, file) = split_path(source);
    let stem = match file.rfind('.') {
        Some(i) if i > 0 && file.len() - i <= 6 => &file[..i],
        _ => file,
    };
    format!("{dir}/{stem}-{}.qcow2", file_safe(snapshot))
}

/// Works out the snapshot `request` asks for on a domain described by `domain_xml`
/// (its live XML when it runs, else its definition); `active` says whether it runs.
pub fn plan_create(
    domain_xml: &str,
    vm_name: &str,
    active: bool,
    request: &CreateRequest,
    existing: &[SnapshotInfo],
    support: SnapshotSupport,
) -> Result<CreatePlan, PlanError> {
    check_name(&request.name, existing)?;
    let disks = disks_from_xml(domain_xml)?;
    let with_memory = active && request.with_memory;
    let (kept, skipped): (Vec<&XmlDisk>, Vec<&XmlDisk>) =
        disks.iter().partition(|d| is_snapshotted(d));
    let skipped: Vec<String> = skipped.iter().map(|d| d.target.clone()).collect();

    let mut why_external = Vec::new();
    if support.qemu {
        if uses_pflash(domain_xml)? {
            why_external.push(ExternalReason::Pflash);
        }
        for d in &kept {
            let format = d.format.clone().unwrap_or_else(|| "raw".into());
            if format != "qcow2" {
                why_external.push(ExternalReason::DiskFormat {
                    target: d.target.clone(),
                    format,
                });
            }
        }
        if active && !with_memory {
            why_external.push(ExternalReason::RunningWithoutMemory);
        }
    }
    if kept.is_empty() {
        // Internal snapshots live in a disk image; external ones put overlays and the
        // memory file beside the disks.
        return Err(PlanError::NoDisk);
    }
    let location = if why_external.is_empty() {
        Location::Internal
    } else {
        Location::External
    };
    let kinds_differ = |s: &SnapshotInfo| s.is_external() != (location == Location::External);
    let mixes_kinds = existing.iter().any(kinds_differ);
    let mut xml = format!(
        "<domainsnapshot>\n  <name>{}</name>\n",
        escape(&request.name)
    );
    if !request.description.is_empty() {
        xml.push_str(&format!(
            "  <description>{}</description>\n",
            escape(&request.description)
        ));
    }
    let mut overlays = Vec::new();
    let mut memory_file = None;
    let mut flags = 0;
    if location == Location::External {
        let mut disks_xml = String::new();
        for d in &kept {
            let source = match &d.path {
                Some(p) if d.kind != "network" => p.clone(),
                _ => return Err(PlanError::NetworkDisk(d.target.clone())),
            };
            let overlay = overlay_path(&source, &request.name);
            disks_xml.push_str(&format!(
                "    <disk name='{}' snapshot='external' type='file'>\n      \
                 <driver type='qcow2'/>\n      <source file='{}'/>\n    </disk>\n",
                escape(&d.target),
                escape(&overlay)
            ));
            overlays.push((d.target.clone(), overlay));
        }
        for t in &skipped {
            disks_xml.push_str(&format!("    <disk name='{}' snapshot='no'/>\n", escape(t)));
        }
        if with_memory {
            let first = kept[0].path.as_deref().unwrap_or_default();
            let dir = split_path(first).0;
            let file = format!(
                "{dir}/{}-{}.mem",
                file_safe(vm_name),
                file_safe(&request.name)
            );
            xml.push_str(&format!(
                "  <memory snapshot='external' file='{}'/>\n",
                escape(&file)
            ));
            memory_file = Some(file);
        } else {
            xml.push_str("  <memory snapshot='no'/>\n");
            flags |= sys::VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY;
        }
        xml.push_str(&format!("  <disks>\n{disks_xml}  </disks>\n"));
        flags |= sys::VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
    }
    xml.push_str("</domainsnapshot>\n");
    Ok(CreatePlan {
        name: request.name.clone(),
        location,
        with_memory,
        revertible: location == Location::Internal || support.reverts_external(),
        why_external,
        overlays,
        memory_file,
        skipped,
        mixes_kinds,
        xml,
        flags,
    })
}

/// The state a reverted VM is left in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevertStart {
    /// As the snapshot was taken: running or paused with memory, else shut off.
    #[default]
    AsTaken,
    /// Running (a snapshot without memory boots from its disks).
    Running,
    /// Paused.
    Paused,
}

/// The state the VM ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRevert {
    Running,
    Paused,
    ShutOff,
}

/// What reverting loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// The running VM's present state: its memory, open programs, unsaved work.
    RunningState,
    /// Everything written to the snapshotted disks since the snapshot.
    DiskChanges,
    /// The managed save image (saved memory) of a shut-off VM, removed first: it
    /// would otherwise be resumed over the reverted disks.
    ManagedSave,
}

/// Why a revert cannot happen on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevertBlock {
    /// External snapshot, and this libvirt (its version given) cannot revert to it.
    External { libvirt_version: u64 },
}

/// What reverting to a snapshot will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertPlan {
    pub blocked: Option<RevertBlock>,
    pub after: AfterRevert,
    pub loses: Vec<Loss>,
    /// `VIR_DOMAIN_SNAPSHOT_REVERT_*` flags.
    pub flags: u32,
    /// Remove the managed save image before reverting.
    pub remove_managed_save: bool,
}

/// Works out a revert of a VM (`active`: it runs; `managed_save`: it has a saved
/// memory image) to `snap`.
pub fn plan_revert(
    snap: &SnapshotInfo,
    active: bool,
    managed_save: bool,
    start: RevertStart,
    support: SnapshotSupport,
) -> RevertPlan {
    let blocked =
        (snap.is_external() && !support.reverts_external()).then_some(RevertBlock::External {
            libvirt_version: support.libvirt_version,
        });
    let (flags, after) = match start {
        RevertStart::Running => (
            sys::VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING,
            AfterRevert::Running,
        ),
        RevertStart::Paused => (sys::VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED, AfterRevert::Paused),
        RevertStart::AsTaken => (
            0,
            match (snap.has_memory(), snap.state) {
                (true, SnapshotState::Paused) => AfterRevert::Paused,
                (true, _) => AfterRevert::Running,
                (false, _) => AfterRevert::ShutOff,
            },
        ),
    };
    let mut loses = Vec::new();
    if active {
        loses.push(Loss::RunningState);
    }
    if snap.disks.iter().any(|d| d.mode != DiskMode::No) || snap.disks.is_empty() {
        loses.push(Loss::DiskChanges);
    }
    if managed_save && !active {
        loses.push(Loss::ManagedSave);
    }
    RevertPlan {
        blocked,
        after,
        loses,
        flags,
        remove_managed_save: managed_save && !active,
    }
}

/// One snapshot to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteStep {
    pub name: String,
    /// libvirt cannot merge this snapshot's data away: only its record goes and its
    /// overlay files stay on the host.
    pub metadata_only: bool,
}

impl DeleteStep {
    /// `VIR_DOMAIN_SNAPSHOT_DELETE_*` flags for this step.
    pub fn flags(&self) -> u32 {
        if self.metadata_only {
            sys::VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY
        } else {
            0
        }
    }
}

/// What deleting a snapshot (and maybe its descendants) will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePlan {
    /// The snapshots that go, one at a time, descendants before their parents and the
    /// asked one last: libvirt 9.0 refuses `DELETE_CHILDREN` over external snapshots
    /// but deletes each of them alone.
    pub steps: Vec<DeleteStep>,
    /// Files that may stay on the host afterwards: external overlays whose snapshot
    /// only loses its record, and external memory files, which libvirt never deletes
    /// (Vireo deletes those that are volumes of a storage pool).
    pub files_kept: Vec<String>,
}

impl DeletePlan {
    /// True when some snapshot only loses its record.
    pub fn metadata_only(&self) -> bool {
        self.steps.iter().any(|s| s.metadata_only)
    }

    /// The names of the snapshots that go, the asked one first.
    pub fn names(&self) -> Vec<String> {
        self.steps.iter().rev().map(|s| s.name.clone()).collect()
    }
}

/// Works out deleting `name` (with its descendants when `with_children`) given every
/// snapshot of the domain and its disks now (`domain_xml`: live XML when it runs, so
/// the backing chains are there).
pub fn plan_delete(
    snapshots: &[SnapshotInfo],
    name: &str,
    with_children: bool,
    domain_xml: &str,
) -> Result<DeletePlan, VirtError> {
    let entries = super::info::tree(snapshots.to_vec());
    // Tree order is depth first, so walking it backwards puts every descendant before
    // its ancestors.
    let mut going = vec![name.to_owned()];
    if with_children {
        going.extend(super::info::descendants(&entries, name));
    }
    let disks = disks_from_xml(domain_xml)?;
    let in_chain = |target: &str, file: &str| {
        disks.iter().any(|d| {
            d.target == target
                && (d.path.as_deref() == Some(file) || d.backing.iter().any(|b| b == file))
        })
    };
    let mut steps = Vec::new();
    let mut files_kept = Vec::new();
    for e in entries
        .iter()
        .rev()
        .filter(|e| going.contains(&e.info.name))
    {
        let s = &e.info;
        // libvirt 9.0 merges an external snapshot away only while its overlay is
        // still in the disk's chain (not after reverting to another branch).
        let metadata_only = s.is_external()
            && s.disks.iter().any(|d| {
                d.mode == DiskMode::External
                    && d.overlay
                        .as_deref()
                        .is_some_and(|o| !in_chain(&d.target, o))
            });
        if let super::info::MemorySnapshot::External(f) = &s.memory {
            files_kept.push(f.clone());
        }
        if metadata_only {
            files_kept.extend(
                s.disks
                    .iter()
                    .filter(|d| d.mode == DiskMode::External)
                    .filter_map(|d| d.overlay.clone()),
            );
        }
        steps.push(DeleteStep {
            name: s.name.clone(),
            metadata_only,
        });
    }
    Ok(DeletePlan { steps, files_kept })
}

#[cfg(test)]
mod tests;
