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

use std::time::Duration;

use virt::connect::Connect;

pub use plan::{
    action_for, check_request, clone_name, nvram_path, plan_clone, volume_name, CloneDisk,
    ClonePlan, CloneRequest, CloneRequestError, DiskAction, DiskFacts, DiskNote,
};

use crate::ffi::libvirt_domain::{define_domain, undefine_domain};
use crate::ffi::libvirt_storage::{
    pool_by_name, pool_volume_names, vol_by_name, vol_create, vol_create_from, vol_delete,
    vol_info, vol_path,
};
use crate::virt::actions::domain_xml;
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{DomainRef, VolRef};
use crate::virt::job::{
    while_running, CancelToken, JobError, JobResult, Progress, Reporter, Stage,
};
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
    Ok(plan_clone(
        &name,
        &xml,
        &disks,
        &facts,
        nvram,
        runs,
        taken_names,
    ))
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
    nv.text()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
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

/// One clone job: what it was asked and what it made so far.
struct Cloner<'a> {
    conn: &'a Connect,
    plan: &'a ClonePlan,
    request: &'a CloneRequest,
    report: &'a Reporter,
    cancel: &'a CancelToken,
    pools: Pools,
    made: Made,
    /// Bytes to copy in all, and copied by the finished copies.
    total: u64,
    done: u64,
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
    let total = plan
        .disks
        .iter()
        .filter(|d| action_for(d, request) == DiskAction::Copy)
        .map(|d| d.allocation.max(1))
        .sum();
    let mut c = Cloner {
        conn,
        plan,
        request,
        report,
        cancel,
        pools: Pools::new(),
        made: Made::default(),
        total,
        done: 0,
    };
    let result = c.make().map_err(|error| {
        report(Progress::stage(Stage::CleaningUp));
        error.leaving(std::mem::take(&mut c.made).undo())
    });
    c.pools.release();
    result
}

impl Cloner<'_> {
    fn check_cancel(&self) -> JobResult<()> {
        if self.cancel.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }

    fn make(&mut self) -> JobResult<String> {
        let (plan, request) = (self.plan, self.request);
        let mut new_disks = Vec::new();
        for disk in &plan.disks {
            let action = action_for(disk, request);
            let Some(source) = disk.source.as_deref() else {
                continue;
            };
            if action == DiskAction::Share {
                continue;
            }
            self.check_cancel()?;
            new_disks.push(self.disk(disk, source, action)?);
        }
        let nvram = match &plan.nvram {
            Some(old) => Some(self.nvram(old)?),
            None => None,
        };
        self.check_cancel()?;
        (self.report)(Progress::stage(Stage::Defining));
        let xml = clone_domain(
            &plan.original_xml,
            &CloneEdits {
                name: request.name.clone(),
                disks: new_disks,
                nvram,
            },
        )?;
        let d = define_domain(self.conn, &xml)?;
        let uuid = d.uuid_string()?;
        self.made.domain = Some(d);
        self.check_cancel()?;
        // Made for good: nothing to undo any more.
        self.made = Made::default();
        Ok(uuid)
    }

    /// Makes the clone's copy or overlay of one disk.
    fn disk(
        &mut self,
        disk: &CloneDisk,
        source: &str,
        action: DiskAction,
    ) -> JobResult<DiskSource> {
        let conn = self.conn;
        let src = self.pools.volume(conn, source)?;
        let (info, format) = describe(&src)?;
        let pool_name = pool_name_of(&src)?;
        let taken = pool_volume_names(&pool_by_name(conn, &pool_name)?)?;
        let new_volume = volume_name(
            file_of(source),
            &self.plan.original,
            &self.request.name,
            &taken,
        );
        if action == DiskAction::Copy {
            let xml = new_volume_xml(&new_volume, info.capacity, format.as_deref(), None);
            let target = disk.target.clone();
            let total = self.total;
            let stage = move |done| Stage::CopyingDisk {
                target: target.clone(),
                done,
                total,
            };
            let path = self.copy(&pool_name, &xml, source, &new_volume, &stage)?;
            self.done += disk.allocation.max(1);
            return Ok(DiskSource {
                target: disk.target.clone(),
                path,
                format: None,
            });
        }
        (self.report)(Progress::stage(Stage::MakingOverlay {
            target: disk.target.clone(),
        }));
        let backing_format = format.as_deref().unwrap_or("raw");
        let xml = new_volume_xml(
            &new_volume,
            info.capacity,
            Some("qcow2"),
            Some((source, backing_format)),
        );
        let v = vol_create(&pool_by_name(conn, &pool_name)?, &xml)?;
        let path = vol_path(&v)?;
        self.made.volumes.push((path.clone(), v));
        Ok(DiskSource {
            target: disk.target.clone(),
            path,
            format: Some("qcow2".to_owned()),
        })
    }

    /// The clone's NVRAM file: a copy of the original's beside it. An NVRAM file that
    /// was never made (a VM never started) is made by libvirt from its template at the
    /// clone's first start, like the original's.
    fn nvram(&mut self, old: &str) -> JobResult<String> {
        let new_path = nvram_path(old, &self.request.name);
        let Ok(src) = self.pools.volume(self.conn, old) else {
            return Ok(new_path);
        };
        self.check_cancel()?;
        (self.report)(Progress::stage(Stage::CopyingNvram));
        let (info, format) = describe(&src)?;
        let pool = pool_name_of(&src)?;
        let name = file_of(&new_path).to_owned();
        let xml = new_volume_xml(&name, info.capacity, format.as_deref(), None);
        self.copy(&pool, &xml, old, &name, &|_| Stage::CopyingNvram)
    }

    /// Copies the volume at `source` into a new volume `name` of pool `pool` (the
    /// host does the copy), reporting the new volume's growing allocation every
    /// [`POLL`].
    fn copy(
        &mut self,
        pool: &str,
        xml: &str,
        source: &str,
        name: &str,
        stage: &dyn Fn(u64) -> Stage,
    ) -> JobResult<String> {
        let (conn, report, cancel) = (self.conn, self.report, self.cancel);
        let (done_before, total) = (self.done, self.total);
        let poll_pool = pool_by_name(conn, pool).ok();
        let mut told_cancel = false;
        let copied: Result<(String, VolRef)> = while_running(
            || {
                // The call gets its own references on the pool and the source.
                let pool = pool_by_name(conn, pool)?;
                let src = VolRef::lookup_path(conn, source)?;
                let v = vol_create_from(&pool, xml, &src)?;
                Ok((vol_path(&v)?, v))
            },
            POLL,
            || {
                if cancel.is_cancelled() && !told_cancel {
                    told_cancel = true;
                    report(Progress::stage(Stage::WaitingToCancel {
                        volume: name.to_owned(),
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
            },
        );
        let (path, v) = copied?;
        self.made.volumes.push((path.clone(), v));
        self.check_cancel()?;
        Ok(path)
    }
}
