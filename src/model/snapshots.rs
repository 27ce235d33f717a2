//! Snapshots of a VM, as typed async methods of its connection.
//!
//! Reading (the tree, the facts a plan needs) runs on the connection's worker; taking,
//! reverting and deleting run as operations on a thread of their own
//! (`operation::run_job`), shown on the VM's row and tab while they last. The
//! plans themselves are pure functions the dialogs call on the facts, so a person
//! sees what will happen (internal or external, revertible or not, what is lost,
//! which files stay) before anything is done.

use gettextrs::gettext;

use super::operation::{run_job, OperationError};
use super::snapshot_thumbnails;
use super::{ConnectionObject, DomainObject};
use crate::virt::job::{Progress, Stage};
use crate::virt::snapshot::{self, DomainFacts, TreeEntry};
use crate::virt::VirtError;

pub use crate::virt::snapshot::{
    plan_create, plan_delete, plan_revert, version_text, AfterRevert, CreatePlan, CreateRequest,
    DeletePlan, DeleteStep, DiskMode, ExternalReason, Location, Loss, MemorySnapshot, PlanError,
    RevertBlock, RevertPlan, RevertStart, SnapshotInfo, SnapshotState, SnapshotSupport,
    EXTERNAL_REVERT_SINCE,
};
pub use crate::virt::snapshot::{DomainFacts as SnapshotFacts, TreeEntry as SnapshotEntry};

impl ConnectionObject {
    /// The VM's snapshots as a tree (depth first, oldest first). Thumbnails of
    /// snapshots that are gone are forgotten on the way (unless an operation runs).
    pub async fn snapshots(&self, domain: &DomainObject) -> Result<Vec<TreeEntry>, VirtError> {
        let uuid = domain.uuid();
        let list = self
            .worker()
            .run({
                let uuid = uuid.clone();
                move |st| snapshot::list(st.session()?.conn(), &uuid)
            })
            .await??;
        // Not while an operation runs: a snapshot being taken is not listed yet, and
        // its thumbnail (or the file it is written to) would go.
        if !domain.operation().is_some_and(|o| o.running()) {
            let names: Vec<String> = list.iter().map(|e| e.info.name.clone()).collect();
            snapshot_thumbnails::remove(&uuid, &[], Some(&names));
        }
        Ok(list)
    }

    /// What the snapshot plans need to know of the VM now.
    pub async fn snapshot_facts(&self, domain: &DomainObject) -> Result<DomainFacts, VirtError> {
        let uuid = domain.uuid();
        self.worker()
            .run(move |st| snapshot::facts(st.session()?.conn(), &uuid))
            .await?
    }

    /// Takes the snapshot `plan` describes. With memory, a picture of the screen is
    /// saved first as its thumbnail.
    pub async fn create_snapshot(
        &self,
        domain: &DomainObject,
        plan: CreatePlan,
    ) -> Result<SnapshotInfo, OperationError> {
        let uuid = domain.uuid();
        let name = plan.name.clone();
        let title = gettext("Taking snapshot “{name}” of {vm}")
            .replace("{name}", &name)
            .replace("{vm}", &domain.name());
        let r = run_job(
            domain,
            std::slice::from_ref(self),
            &title,
            false,
            Box::new(move |conns, report, _| {
                let conn = &conns[0];
                let shot = if plan.with_memory {
                    report(Progress::stage(Stage::Screenshot));
                    snapshot::screenshot(conn, &uuid)
                        .map_err(|e| tracing::debug!(error = %e, "no screenshot for the thumbnail"))
                        .ok()
                } else {
                    None
                };
                report(Progress::stage(Stage::TakingSnapshot {
                    name: name.clone(),
                }));
                let info = snapshot::create(conn, &uuid, &plan)?;
                if let Some((mime, bytes)) = shot {
                    if let Err(e) = snapshot_thumbnails::save(&uuid, &info.name, &mime, &bytes) {
                        tracing::warn!(error = %e, "could not save the snapshot's thumbnail");
                    }
                }
                Ok(info)
            }),
        )
        .await;
        domain.emit_snapshots_changed();
        self.schedule_refresh(domain.uuid());
        r
    }

    /// Reverts to snapshot `name` as `plan` says.
    pub async fn revert_snapshot(
        &self,
        domain: &DomainObject,
        name: &str,
        plan: RevertPlan,
    ) -> Result<(), OperationError> {
        let uuid = domain.uuid();
        let name = name.to_owned();
        let title = gettext("Reverting {vm} to “{name}”")
            .replace("{name}", &name)
            .replace("{vm}", &domain.name());
        let r = run_job(
            domain,
            std::slice::from_ref(self),
            &title,
            false,
            Box::new(move |conns, report, _| {
                report(Progress::stage(Stage::Reverting { name: name.clone() }));
                Ok(snapshot::revert(&conns[0], &uuid, &name, &plan)?)
            }),
        )
        .await;
        domain.emit_snapshots_changed();
        self.schedule_refresh(domain.uuid());
        r
    }

    /// Deletes what `plan` lists; returns the files that stay on the host.
    pub async fn delete_snapshots(
        &self,
        domain: &DomainObject,
        plan: DeletePlan,
    ) -> Result<Vec<String>, OperationError> {
        let uuid = domain.uuid();
        let names = plan.names();
        let title = gettext("Deleting snapshots of {vm}").replace("{vm}", &domain.name());
        let r = run_job(
            domain,
            std::slice::from_ref(self),
            &title,
            false,
            Box::new({
                let uuid = uuid.clone();
                move |conns, report, _| {
                    let each = |n: &str| {
                        report(Progress::stage(Stage::DeletingSnapshot {
                            name: n.to_owned(),
                        }))
                    };
                    Ok(snapshot::delete(&conns[0], &uuid, &plan, &each)?)
                }
            }),
        )
        .await;
        if r.is_ok() {
            snapshot_thumbnails::remove(&uuid, &names, None);
        }
        domain.emit_snapshots_changed();
        r
    }

    /// Changes snapshot `name`'s description (libvirt redefines its metadata).
    pub async fn set_snapshot_description(
        &self,
        domain: &DomainObject,
        name: &str,
        description: &str,
    ) -> Result<(), VirtError> {
        let (uuid, name, text) = (domain.uuid(), name.to_owned(), description.to_owned());
        let r = self
            .worker()
            .run(move |st| snapshot::set_description(st.session()?.conn(), &uuid, &name, &text))
            .await?;
        domain.emit_snapshots_changed();
        r
    }
}

/// The thumbnail of snapshot `name` of `domain`, if one was saved on this computer.
pub fn snapshot_thumbnail(domain: &DomainObject, name: &str) -> Option<std::path::PathBuf> {
    snapshot_thumbnails::existing(&domain.uuid(), name)
}
