//! Cloning a domain as virt-clone does: a new name, UUID and MAC addresses, each disk
//! copied by the host (`virStorageVolCreateXMLFrom`), shared, or made a thin qcow2
//! overlay on the original; the NVRAM copied; nothing half-made left behind when the
//! job fails or is cancelled.
//!
//! libvirt 9.0 cannot stop a volume copy once started, nor delete the volume while it
//! is being filled ("still being allocated"): Cancel during a copy therefore waits for
//! that copy to end and then deletes it with everything else the job made. A running
//! original cannot be cloned (its QEMU holds the disks' locks, so the host's
//! `qemu-img` cannot read them): the plan says it must be shut off first.

pub mod plan;

use std::thread;
use std::time::Duration;

use virt::connect::Connect;

pub use plan::{
    action_for, check_request, clone_name, nvram_path, plan_clone, volume_name, CloneDisk,
    ClonePlan, CloneRequest, CloneRequestError, DiskAction, DiskFacts, DiskNote,
};

use crate::ffi::libvirt_domain::{define_domain, undefine_domain};
use crate::ffi::libvirt_storage::{
    pool_by_name, pool_volume_names, vol_by_name, vol_create, vol_create_from, vol_delete, vol_info, vol_path,
};
use crate::virt::actions::domain_xml;
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{DomainRef, VolRef};
use crate::virt::job::{CancelToken, JobError, JobResult, Progress, Reporter, Stage};
use crate::virt::storage::disks_from_xml;
use crate::virt::volumes::{describe, dir_of, file_of, new_volume_xml, pool_name_of, Pools};
use crate::virt::xml_edits::{clone_domain, CloneEdits, DiskSource};

/// How often a copy's progress is read.
const POLL: Duration = Duration::from_millis(250);

/// Reads what the clone dialog needs: the plan with the host's figures. `taken_names`
/// are the names of the host's VMs.
pub fn prepare(conn: &Connect, uuid: &str, taken_names: &[String]) -> Result<ClonePlan> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    let name = d.name()?;
    let runs = d.id().is_some();
    let xml = domain_xml(conn, uuid, true)?;
    let disks = disks_from_xml(&xml)?;
    let mut pools = Pools::new();
    let mut facts = Vec::new();
    for disk in &disks {
        let Some(path) = disk.path.as_deref().filter(|_| disk.kind != "network") else {
            continue;
        };
        // Sizes and names in use come from the pool of the disk's directory (made
        // for the moment when there is none); a missing file just has no figures.
        let vol = pools.volume(conn, path);
        let mut f = DiskFacts::default();
        if let Ok(v) = &vol {
            if let Ok((info, _)) = describe(v) {
                f.capacity = info.capacity;
                f.allocation = info.allocation;
            }
        }
        f.taken = taken_files(conn, dir_of(path), &mut pools);
        facts.push((disk.target.clone(), f));
    }
    pools.release();
    let nvram = nvram_of(&xml);
    Ok(plan_clone(&name, &xml, &disks, &facts, nvram, runs, taken_names))
}

/// The names of the volumes in the pool of `dir`.
fn taken_files(conn: &Connect, dir: &str, pools: &mut Pools) -> Vec<String> {
    let Ok(pool) = pools.for_dir(conn, dir) else {
        return Vec::new();
    };
    pool_volume_names(&pool).unwrap_or_default()
}

fn nvram_of(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let os = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("os"))?;
    let nv = os.children().find(|n| n.has_tag_name("nvram"))?;
    nv.text().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// What a clone job made so far, undone in reverse when it fails.
#[derive(Default)]
struct Made {
    volumes: Vec<(String, VolRef)>,
    domain: Option<DomainRef>,
}

impl Made {
    /// Removes everything; returns what could not be removed.
    fn undo(self) -> Vec<String> {
        let mut left = Vec::new();
        if let Some(d) = self.domain {
            if let Err(e) = undefine_domain(&d, virt::sys::VIR_DOMAIN_UNDEFINE_NVRAM) {
                tracing::warn!(error = %e, "could not undefine the half-made clone");
                left.push(d.name().unwrap_or_default());
            }
        }
        for (path, v) in self.volumes.into_iter().rev() {
            if let Err(e) = vol_delete(&v) {
                tracing::warn!(path, error = %e, "could not delete a half-made volume");
                left.push(path);
            }
        }
        left
    }
}

/// Makes the clone `request` asks for. Returns the new domain's UUID.
pub fn run(
    conn: &Connect,
    plan: &ClonePlan,
    request: &CloneRequest,
    report: &Reporter,
    cancel: &CancelToken,
) -> JobResult<String> {
    if plan.needs_shutdown {
        return Err(VirtError::InvalidArgument(format!(
            "{} must be shut off before it is cloned",
            plan.original
        ))
        .into());
    }
    let mut pools = Pools::new();
    let mut made = Made::default();
    let result = make(conn, plan, request, report, cancel, &mut pools, &mut made);
    let result = match result {
        Ok(uuid) => Ok(uuid),
        Err(error) => {
            report(Progress::stage(Stage::CleaningUp));
            let left = made.undo();
            if left.is_empty() {
                Err(error)
            } else {
                Err(JobError::LeftBehind {
                    error: Box::new(error),
                    left,
                })
            }
        }
    };
    pools.release();
    result
}

fn make(
    conn: &Connect,
    plan: &ClonePlan,
    request: &CloneRequest,
    report: &Reporter,
    cancel: &CancelToken,
    pools: &mut Pools,
    made: &mut Made,
) -> JobResult<String> {
    let total: u64 = plan
        .disks
        .iter()
        .filter(|d| action_for(d, request) == DiskAction::Copy)
        .map(|d| d.allocation.max(1))
        .sum();
    let mut done = 0;
    let mut new_disks = Vec::new();
    for disk in &plan.disks {
        let action = action_for(disk, request);
        let Some(source) = disk.source.as_deref() else {
            continue;
        };
        if action == DiskAction::Share {
            continue;
        }
        if cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        let src = pools.volume(conn, source)?;
        let (info, format) = describe(&src)?;
        let pool_name = pool_name_of(&src)?;
        let taken = pool_volume_names(&pool_by_name(conn, &pool_name)?)?;
        let new_volume = volume_name(file_of(source), &plan.original, &request.name, &taken);
        let format_in_xml;
        let path = if action == DiskAction::Copy {
            let xml = new_volume_xml(&new_volume, info.capacity, format.as_deref(), None);
            format_in_xml = None;
            let stage = |done| Stage::CopyingDisk {
                target: disk.target.clone(),
                done,
                total,
            };
            let path = copy(conn, &pool_name, &xml, source, &new_volume, done, total, &stage, report, cancel, made)?;
            done += disk.allocation.max(1);
            path
        } else {
            report(Progress::stage(Stage::MakingOverlay {
                target: disk.target.clone(),
            }));
            let backing_format = format.as_deref().unwrap_or("raw");
            let xml = new_volume_xml(
                &new_volume,
                info.capacity,
                Some("qcow2"),
                Some((source, backing_format)),
            );
            let pool = pool_by_name(conn, &pool_name)?;
            let v = vol_create(&pool, &xml)?;
            let path = vol_path(&v)?;
            made.volumes.push((path.clone(), v));
            format_in_xml = Some("qcow2".to_owned());
            path
        };
        new_disks.push(DiskSource {
            target: disk.target.clone(),
            path,
            format: format_in_xml,
        });
    }
    let mut nvram = None;
    if let Some(old) = &plan.nvram {
        let new_path = nvram_path(old, &request.name);
        // An NVRAM file that was never made (a VM never started) is made by libvirt
        // from its template at the clone's first start, like the original's.
        if let Ok(src) = pools.volume(conn, old) {
            if cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            report(Progress::stage(Stage::CopyingNvram));
            let (info, format) = describe(&src)?;
            let pool = pool_name_of(&src)?;
            let name = file_of(&new_path).to_owned();
            let xml = new_volume_xml(&name, info.capacity, format.as_deref(), None);
            let stage = |_| Stage::CopyingNvram;
            let path = copy(conn, &pool, &xml, old, &name, done, total, &stage, report, cancel, made)?;
            nvram = Some(path);
        } else {
            nvram = Some(new_path);
        }
    }
    if cancel.is_cancelled() {
        return Err(JobError::Cancelled);
    }
    report(Progress::stage(Stage::Defining));
    let xml = clone_domain(
        &plan.original_xml,
        &CloneEdits {
            name: request.name.clone(),
            disks: new_disks,
            nvram,
        },
    )?;
    let d = define_domain(conn, &xml)?;
    let uuid = d.uuid_string()?;
    made.domain = Some(d);
    if cancel.is_cancelled() {
        return Err(JobError::Cancelled);
    }
    // Made for good: nothing to undo any more.
    *made = Made::default();
    Ok(uuid)
}

/// Copies the volume at `source` into a new volume `name` of pool `pool` (the host
/// does the copy), reporting the new volume's growing allocation every [`POLL`].
#[allow(clippy::too_many_arguments)]
fn copy(
    conn: &Connect,
    pool: &str,
    xml: &str,
    source: &str,
    name: &str,
    done_before: u64,
    total: u64,
    stage: &dyn Fn(u64) -> Stage,
    report: &Reporter,
    cancel: &CancelToken,
    made: &mut Made,
) -> JobResult<String> {
    let copied: Result<(String, VolRef)> = thread::scope(|s| {
        let copier = s.spawn(|| {
            let pool = pool_by_name(conn, pool)?;
            let src = VolRef::lookup_path(conn, source)?;
            let v = vol_create_from(&pool, xml, &src)?;
            Ok((vol_path(&v)?, v))
        });
        let poll_pool = pool_by_name(conn, pool).ok();
        let mut told_cancel = false;
        while !copier.is_finished() {
            if cancel.is_cancelled() && !told_cancel {
                told_cancel = true;
                report(Progress::stage(Stage::WaitingToCancel {
                    target: name.to_owned(),
                }));
            }
            if !told_cancel {
                let now = poll_pool
                    .as_ref()
                    .and_then(|p| vol_by_name(p, name).ok())
                    .and_then(|v| vol_info(&v).ok())
                    .map_or(0, |i| i.allocation);
                let done = done_before + now;
                report(Progress::counted(stage(done), done, total));
            }
            thread::sleep(POLL);
        }
        copier
            .join()
            .unwrap_or_else(|_| Err(VirtError::InvalidArgument("the copy thread panicked".into())))
    });
    let (path, v) = copied?;
    made.volumes.push((path.clone(), v));
    if cancel.is_cancelled() {
        return Err(JobError::Cancelled);
    }
    Ok(path)
}
