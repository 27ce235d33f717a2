//! Moving a domain to another host this process is connected to.
//!
//! Live (the domain runs): `virDomainMigrate3` driven by this client (not peer to
//! peer: the two daemons need not reach each other, only the source QEMU must reach
//! the destination's migration port), disks copied by QEMU over NBD when they are not
//! on the destination already; progress from `virDomainGetJobStats` read on the
//! connection while the migration call blocks on another thread; Cancel is
//! `virDomainAbortJob`.
//!
//! Offline (the domain is shut off): the disks (and NVRAM) are copied through this
//! process with sparse streams into volumes at the same paths on the destination, the
//! definition is defined there, then undefined on the source unless asked to keep it.
//! The source's files stay in any case.

use std::time::Duration;

use virt::connect::Connect;
use virt::sys;

use crate::ffi::libvirt_domain::{define_domain, hostname, undefine_domain};
use crate::ffi::libvirt_migrate::{abort_job, job_stats, migrate3, TypedParams};
use crate::ffi::libvirt_snapshot::SnapshotRef;
use crate::ffi::libvirt_storage::{vol_create, vol_delete};
use crate::virt::actions::domain_xml;
use crate::virt::error::{Result, VirtError};
use crate::virt::handles::{DomainRef, VolRef};
use crate::virt::job::{
    while_running, CancelToken, JobError, JobResult, Progress, Reporter, Stage,
};
use crate::virt::storage::disks_from_xml;
use crate::virt::uri::UriInfo;
use crate::virt::volumes::{describe, dir_of, file_of, new_volume_xml, transfer, Pools};

/// How often a live migration's figures are read.
const POLL: Duration = Duration::from_millis(500);

/// Live or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrateMode {
    /// The domain keeps running and moves with its memory.
    Live,
    /// The shut-off domain's definition and storage move.
    Offline,
}

/// A disk the migration moves (or finds on the destination already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateDisk {
    pub target: String,
    pub path: String,
    /// Bytes used on the source host.
    pub allocation: u64,
    /// The destination has a volume at the same path already (shared storage or an
    /// earlier copy): it is used, not copied.
    pub on_destination: bool,
}

/// Why a migration cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrateBlock {
    /// A domain with this UUID or name is on the destination already.
    OnDestination,
    /// libvirt does not migrate a domain with snapshots (their number).
    Snapshots(usize),
    /// The domain is neither running, paused nor shut off (crashed, suspended...).
    State,
    /// Source and destination are the same host.
    SameHost,
}

/// What the migration dialog shows and the job follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigratePlan {
    pub name: String,
    pub uuid: String,
    /// Host names as each daemon gives them.
    pub source_host: String,
    pub dest_host: String,
    pub mode: MigrateMode,
    /// Writable disks, copied unless on the destination already.
    pub disks: Vec<MigrateDisk>,
    /// Read-only files (CD-ROM images...) that must be at the same paths on the
    /// destination; they are not copied.
    pub shared_files: Vec<String>,
    /// The UEFI variables file, copied when the destination lacks it.
    pub nvram: Option<String>,
    pub blocked: Vec<MigrateBlock>,
    /// The address the source's QEMU uses to reach the destination (`tcp://ADDR`),
    /// taken from the destination's URI for a remote host; `None` lets libvirt use
    /// the destination's host name.
    pub address: Option<String>,
    /// The definition moved by an offline migration (with secrets).
    pub xml: String,
}

/// What a person chose.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrateRequest {
    /// Keep the definition on the source (a copy rather than a move).
    pub keep_source: bool,
    /// Overrides [`MigratePlan::address`].
    pub address: Option<String>,
}

/// How a migration went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateOutcome {
    /// The domain's UUID (the same on the destination).
    pub uuid: String,
    /// Time the migration took as libvirt measured it (live), in ms.
    pub elapsed_ms: Option<u64>,
    /// Time the guest was paused for the switch-over (live), in ms.
    pub downtime_ms: Option<u64>,
}

/// Reads what a migration of the domain `uuid` from `src` to `dst` needs; `dst_uri`
/// is the destination's URI (its host is the default migration address).
pub fn prepare(src: &Connect, dst: &Connect, uuid: &str, dst_uri: &str) -> Result<MigratePlan> {
    let d = DomainRef::lookup_uuid(src, uuid)?;
    let (state, _) = crate::ffi::libvirt_domain::domain_state(&d)?;
    let mode = match state as u32 {
        sys::VIR_DOMAIN_RUNNING | sys::VIR_DOMAIN_PAUSED | sys::VIR_DOMAIN_BLOCKED => {
            Some(MigrateMode::Live)
        }
        sys::VIR_DOMAIN_SHUTOFF => Some(MigrateMode::Offline),
        _ => None,
    };
    let name = d.name()?;
    let xml = domain_xml(src, uuid, true)?;
    let mut blocked = Vec::new();
    if mode.is_none() {
        blocked.push(MigrateBlock::State);
    }
    if DomainRef::lookup_uuid(dst, uuid).is_ok()
        || crate::ffi::libvirt_domain::domain_by_name(dst, &name).is_ok()
    {
        blocked.push(MigrateBlock::OnDestination);
    }
    let snapshots = SnapshotRef::list_all(&d)?.len();
    if snapshots > 0 {
        blocked.push(MigrateBlock::Snapshots(snapshots));
    }
    let source_host = hostname(src)?;
    let dest_host = hostname(dst)?;
    if source_host == dest_host && host_uuid(src)? == host_uuid(dst)? {
        blocked.push(MigrateBlock::SameHost);
    }
    let mut disks = Vec::new();
    let mut shared_files = Vec::new();
    let mut pools = Pools::new();
    let mut dst_pools = Pools::new();
    for disk in disks_from_xml(&xml)? {
        let Some(path) = disk.path.clone().filter(|_| disk.kind != "network") else {
            continue;
        };
        if disk.readonly || disk.shared || disk.device != "disk" {
            shared_files.push(path);
            continue;
        }
        let allocation = pools
            .volume(src, &path)
            .ok()
            .and_then(|v| describe(&v).ok())
            .map_or(0, |(i, _)| i.allocation);
        // The destination has it when its directory holds the file there (through a
        // pool of the moment when none covers that directory).
        let on_destination = dst_pools.volume(dst, &path).is_ok();
        disks.push(MigrateDisk {
            target: disk.target,
            on_destination,
            path,
            allocation,
        });
    }
    pools.release();
    dst_pools.release();
    let uri = UriInfo::parse(dst_uri);
    Ok(MigratePlan {
        name,
        uuid: uuid.to_owned(),
        source_host,
        dest_host,
        mode: mode.unwrap_or(MigrateMode::Offline),
        disks,
        shared_files,
        nvram: nvram_path(&xml),
        blocked,
        address: (uri.is_remote() && !uri.host.is_empty()).then(|| uri.host.clone()),
        xml,
    })
}

/// The host's UUID from its capabilities (two URIs may name one host).
fn host_uuid(conn: &Connect) -> Result<String> {
    let caps = crate::ffi::libvirt_domain::capabilities_xml(conn)?;
    let doc = roxmltree::Document::parse(&caps).map_err(|e| VirtError::Xml(e.to_string()))?;
    Ok(doc
        .descendants()
        .find(|n| n.has_tag_name("host"))
        .and_then(|h| h.children().find(|n| n.has_tag_name("uuid")))
        .and_then(|u| u.text())
        .unwrap_or_default()
        .to_owned())
}

fn nvram_path(xml: &str) -> Option<String> {
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

/// Files made on the destination, removed if the migration does not complete.
#[derive(Default)]
struct MadeOnDest {
    volumes: Vec<(String, VolRef)>,
    paths: Vec<String>,
    domain: Option<DomainRef>,
}

impl MadeOnDest {
    fn undo(self, dst: &Connect) -> Vec<String> {
        let mut left = Vec::new();
        if let Some(d) = self.domain {
            if undefine_domain(&d, sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM).is_err() {
                left.push(d.name().unwrap_or_default());
            }
        }
        for (path, v) in self.volumes.into_iter().rev() {
            if vol_delete(&v).is_err() {
                left.push(path);
            }
        }
        // Disks QEMU's storage migration made through a pool.
        for path in self.paths {
            if let Ok(v) = VolRef::lookup_path(dst, &path) {
                if vol_delete(&v).is_err() {
                    left.push(path);
                }
            }
        }
        left
    }
}

/// One migration job: both hosts, what it was asked, and what it made so far.
struct Mover<'a> {
    src: &'a Connect,
    dst: &'a Connect,
    plan: &'a MigratePlan,
    request: &'a MigrateRequest,
    report: &'a Reporter,
    cancel: &'a CancelToken,
    src_pools: Pools,
    dst_pools: Pools,
    made: MadeOnDest,
}

/// Migrates as `plan` and `request` say. Returns how it went.
pub fn run(
    src: &Connect,
    dst: &Connect,
    plan: &MigratePlan,
    request: &MigrateRequest,
    report: &Reporter,
    cancel: &CancelToken,
) -> JobResult<MigrateOutcome> {
    if !plan.blocked.is_empty() {
        return Err(VirtError::InvalidArgument(format!("{:?}", plan.blocked)).into());
    }
    let mut m = Mover {
        src,
        dst,
        plan,
        request,
        report,
        cancel,
        src_pools: Pools::new(),
        dst_pools: Pools::new(),
        made: MadeOnDest::default(),
    };
    let r = match plan.mode {
        MigrateMode::Live => m.live(),
        MigrateMode::Offline => m.offline(),
    };
    let r = r.map_err(|error| {
        report(Progress::stage(Stage::CleaningUp));
        error.leaving(std::mem::take(&mut m.made).undo(dst))
    });
    m.src_pools.release();
    m.dst_pools.release();
    r
}

impl Mover<'_> {
    /// Copies the file at `path` on the source to a new volume at the same path on the
    /// destination, telling `progress` the bytes moved.
    fn copy_file(&mut self, path: &str, progress: &mut dyn FnMut(u64)) -> JobResult<()> {
        let from = self.src_pools.volume(self.src, path)?;
        let (info, format) = describe(&from)?;
        let pool = self.dst_pools.for_dir_made(self.dst, dir_of(path), true)?;
        let xml = new_volume_xml(file_of(path), info.capacity, format.as_deref(), None);
        let to = vol_create(&pool, &xml)?;
        let to_for_copy = VolRef::lookup_path(self.dst, path)?;
        self.made.volumes.push((path.to_owned(), to));
        transfer(
            self.src,
            &from,
            self.dst,
            &to_for_copy,
            progress,
            self.cancel,
        )
    }

    /// Copies the NVRAM file when the destination lacks it.
    fn copy_nvram(&mut self) -> JobResult<()> {
        if let Some(nv) = &self.plan.nvram {
            let missing = self.dst_pools.volume(self.dst, nv).is_err();
            if missing && self.src_pools.volume(self.src, nv).is_ok() {
                (self.report)(Progress::stage(Stage::CopyingNvram));
                self.copy_file(nv, &mut |_| {})?;
            }
        }
        Ok(())
    }

    fn live(&mut self) -> JobResult<MigrateOutcome> {
        let (src, dst, plan, report, cancel) =
            (self.src, self.dst, self.plan, self.report, self.cancel);
        let d = DomainRef::lookup_uuid(src, &plan.uuid)?;
        let mut flags = sys::VIR_MIGRATE_LIVE | sys::VIR_MIGRATE_PERSIST_DEST;
        if !self.request.keep_source {
            flags |= sys::VIR_MIGRATE_UNDEFINE_SOURCE;
        }
        let copied: Vec<&MigrateDisk> = plan.disks.iter().filter(|d| !d.on_destination).collect();
        if !copied.is_empty() {
            // QEMU copies them over NBD into volumes libvirt pre-creates on the
            // destination, in a pool for the same directory: make one where none is.
            flags |= sys::VIR_MIGRATE_NON_SHARED_DISK;
            for disk in &copied {
                self.dst_pools.for_dir_made(dst, dir_of(&disk.path), true)?;
                self.made.paths.push(disk.path.clone());
            }
        }
        self.copy_nvram()?;
        let mut params = TypedParams::new();
        if let Some(addr) = self.request.address.as_ref().or(plan.address.as_ref()) {
            params.add_string(sys::VIR_MIGRATE_PARAM_URI, &format!("tcp://{addr}"))?;
        }
        let uuid = plan.uuid.as_str();
        let mut aborted = false;
        let result: Result<DomainRef> = while_running(
            // The call gets its own reference on the domain, and the parameters.
            move || migrate3(&DomainRef::lookup_uuid(src, uuid)?, dst, &params, flags),
            POLL,
            || {
                if cancel.is_cancelled() && !aborted {
                    aborted = true;
                    if let Err(e) = abort_job(&d) {
                        tracing::warn!(error = %e, "could not abort the migration");
                    }
                }
                if let Ok(stats) = job_stats(&d, false) {
                    let done = stats.get(sys::VIR_DOMAIN_JOB_DATA_PROCESSED).unwrap_or(0);
                    let total = stats.get(sys::VIR_DOMAIN_JOB_DATA_TOTAL).unwrap_or(0);
                    let iteration = stats.get(sys::VIR_DOMAIN_JOB_MEMORY_ITERATION).unwrap_or(0);
                    let stage = Stage::Migrating {
                        done,
                        total,
                        iteration,
                    };
                    report(Progress::counted(stage, done, total));
                }
            },
        );
        let moved = match result {
            Ok(m) => m,
            Err(_) if cancel.is_cancelled() => return Err(JobError::Cancelled),
            Err(e) => return Err(e.into()),
        };
        self.made = MadeOnDest::default();
        let done = job_stats(&moved, true).ok();
        Ok(MigrateOutcome {
            uuid: moved.uuid_string()?,
            elapsed_ms: done
                .as_ref()
                .and_then(|s| s.get(sys::VIR_DOMAIN_JOB_TIME_ELAPSED)),
            downtime_ms: done
                .as_ref()
                .and_then(|s| s.get(sys::VIR_DOMAIN_JOB_DOWNTIME)),
        })
    }

    fn offline(&mut self) -> JobResult<MigrateOutcome> {
        let plan = self.plan;
        let report = self.report;
        let total: u64 = plan
            .disks
            .iter()
            .filter(|d| !d.on_destination)
            .map(|d| d.allocation)
            .sum();
        let mut before = 0;
        for disk in plan.disks.iter().filter(|d| !d.on_destination) {
            let mut progress = |n: u64| {
                let done = before + n;
                let stage = Stage::TransferringDisk {
                    target: disk.target.clone(),
                    done,
                    total,
                };
                report(Progress::counted(stage, done, total))
            };
            self.copy_file(&disk.path, &mut progress)?;
            before += disk.allocation;
        }
        self.copy_nvram()?;
        if self.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        report(Progress::stage(Stage::Defining));
        let defined = define_domain(self.dst, &plan.xml)?;
        let uuid = defined.uuid_string()?;
        self.made.domain = Some(defined);
        if !self.request.keep_source {
            let d = DomainRef::lookup_uuid(self.src, &plan.uuid)?;
            // The source's disks and NVRAM stay where they are.
            undefine_domain(
                &d,
                sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM,
            )?;
        }
        self.made = MadeOnDest::default();
        Ok(MigrateOutcome {
            uuid,
            elapsed_ms: None,
            downtime_ms: None,
        })
    }
}
