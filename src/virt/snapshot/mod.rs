//! Snapshots of a domain: the tree, and creating, reverting, deleting and describing
//! them, each after a plan ([`plan`]) that says beforehand what will happen.
//!
//! Every function here blocks on libvirt: call them on the connection's worker or on
//! a job thread, never on the main loop.

pub mod info;
pub mod plan;

use virt::connect::Connect;
use virt::sys;

pub use info::{
    descendants, tree, DiskMode, MemorySnapshot, SnapshotDisk, SnapshotInfo, SnapshotState,
    TreeEntry,
};
pub use plan::{
    check_name, plan_create, plan_delete, plan_revert, uses_pflash, AfterRevert, CreatePlan,
    CreateRequest, DeletePlan, DeleteStep, ExternalReason, Location, Loss, PlanError, RevertBlock,
    RevertPlan, RevertStart, SnapshotSupport, EXTERNAL_REVERT_SINCE,
};

use crate::ffi::libvirt_domain::{driver_type, lib_version};
use crate::ffi::libvirt_snapshot::{has_managed_save, managed_save_remove, SnapshotRef};
use crate::ffi::libvirt_storage::{pool_by_target_path, pool_refresh, vol_delete};
use crate::ffi::libvirt_stream;
use crate::virt::actions::domain_xml;
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{DomainRef, VolRef};
use crate::virt::xml_edits::set_snapshot_description;

/// Reads every snapshot of `d` (one RPC for the list, two per snapshot).
fn read_all(d: &DomainRef) -> Result<Vec<SnapshotInfo>> {
    SnapshotRef::list_all(d)?
        .iter()
        .map(|s| {
            let mut info = SnapshotInfo::parse(&s.xml(false)?)?;
            info.is_current = s.is_current()?;
            Ok(info)
        })
        .collect()
}

/// The snapshots of the domain with `uuid`, as a tree (depth first, oldest first).
pub fn list(conn: &Connect, uuid: &str) -> Result<Vec<TreeEntry>> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    Ok(tree(read_all(&d)?))
}

/// What the snapshot code knows of a host.
pub fn support(conn: &Connect) -> Result<SnapshotSupport> {
    let driver = driver_type(conn)?;
    Ok(SnapshotSupport {
        libvirt_version: lib_version(conn)?,
        qemu: driver.eq_ignore_ascii_case("qemu"),
    })
}

/// A domain as the plans need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainFacts {
    pub name: String,
    /// Live XML when the domain runs (with backing chains), else its definition.
    pub xml: String,
    pub active: bool,
    pub managed_save: bool,
    pub snapshots: Vec<SnapshotInfo>,
    pub support: SnapshotSupport,
}

/// Reads what [`plan_create`], [`plan_revert`] and [`plan_delete`] need.
pub fn facts(conn: &Connect, uuid: &str) -> Result<DomainFacts> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    let active = d.id().is_some();
    Ok(DomainFacts {
        name: d.name()?,
        xml: domain_xml(conn, uuid, !active)?,
        active,
        managed_save: !active && has_managed_save(&d).unwrap_or(false),
        snapshots: read_all(&d)?,
        support: support(conn)?,
    })
}

/// Takes the snapshot `plan` describes; returns it as libvirt recorded it.
pub fn create(conn: &Connect, uuid: &str, plan: &CreatePlan) -> Result<SnapshotInfo> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    let s = SnapshotRef::create(&d, &plan.xml, plan.flags)?;
    let mut info = SnapshotInfo::parse(&s.xml(false)?)?;
    info.is_current = s.is_current().unwrap_or(true);
    Ok(info)
}

/// Reverts to the snapshot `name` as `plan` says (refused when the plan is blocked).
pub fn revert(conn: &Connect, uuid: &str, name: &str, plan: &RevertPlan) -> Result<()> {
    if let Some(RevertBlock::External { libvirt_version }) = plan.blocked {
        return Err(VirtError::InvalidArgument(format!(
            "libvirt {} cannot revert to external snapshots (libvirt {} can)",
            version_text(libvirt_version),
            version_text(EXTERNAL_REVERT_SINCE)
        )));
    }
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    if plan.remove_managed_save {
        managed_save_remove(&d)?;
    }
    SnapshotRef::lookup(&d, name)?.revert(plan.flags)
}

/// Deletes the snapshots of `plan`, one by one in its order, then the external
/// memory files of those that went which are volumes of a storage pool (libvirt
/// leaves them). Returns the files that stay on the host. `each` hears every name
/// as its deletion starts.
pub fn delete(
    conn: &Connect,
    uuid: &str,
    plan: &DeletePlan,
    each: &dyn Fn(&str),
) -> Result<Vec<String>> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    for step in &plan.steps {
        each(&step.name);
        SnapshotRef::lookup(&d, &step.name)?.delete(step.flags())?;
    }
    Ok(plan
        .files_kept
        .iter()
        .filter(|f| !f.ends_with(".mem") || delete_pool_file(conn, f).is_err())
        .cloned()
        .collect())
}

/// Deletes `path` through the pool whose directory holds it (refreshed first: libvirt
/// wrote the file behind the pool's back).
fn delete_pool_file(conn: &Connect, path: &str) -> Result<()> {
    let dir = path.rsplit_once('/').map_or("/", |(d, _)| d);
    let pool = pool_by_target_path(conn, dir)?;
    pool_refresh(&pool)?;
    vol_delete(&VolRef::lookup_path(conn, path)?)
}

/// Changes a snapshot's description: its XML (with secrets, so none are lost) is
/// redefined with the new text, and stays current if it was (`REDEFINE|CURRENT`, as
/// libvirt documents for editing snapshot metadata).
pub fn set_description(conn: &Connect, uuid: &str, name: &str, description: &str) -> Result<()> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    let s = SnapshotRef::lookup(&d, name)?;
    let xml = s.xml(true)?;
    let new = set_snapshot_description(&xml, description)?;
    if new == xml {
        return Ok(());
    }
    let mut flags = sys::VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE;
    if s.is_current()? {
        flags |= sys::VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT;
    }
    SnapshotRef::create(&d, &new, flags).map(drop)
}

/// The running domain's screen (MIME type and bytes); QEMU gives a PPM picture.
pub fn screenshot(conn: &Connect, uuid: &str) -> Result<(String, Vec<u8>)> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    libvirt_stream::screenshot(conn, &d)
}

/// "9.0.0" for 9_000_000.
pub fn version_text(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, v / 1000 % 1000, v % 1000)
}
