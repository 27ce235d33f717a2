//! Moving a VM to another open connection, as typed async methods: the plan needs
//! both hosts at once, so it is read on a thread with a reference on each; the
//! migration runs as an operation with progress and Cancel on the source VM. The VM
//! appears on the destination's list from that host's events.

use gettextrs::gettext;

use super::operation::{run_job, run_quick, OperationError};
use super::{ConnectionObject, DomainObject};
use crate::virt::migrate;

pub use crate::virt::migrate::{
    MigrateBlock, MigrateDisk, MigrateMode, MigrateOutcome, MigratePlan, MigrateRequest,
};

impl ConnectionObject {
    /// What moving `domain` to `dest` would do, and what stands in the way.
    pub async fn prepare_migration(
        &self,
        domain: &DomainObject,
        dest: &ConnectionObject,
    ) -> Result<MigratePlan, OperationError> {
        let uuid = domain.uuid();
        let dest_uri = dest.uri();
        run_quick(
            &[self.clone(), dest.clone()],
            Box::new(move |c, _, _| Ok(migrate::prepare(&c[0], &c[1], &uuid, &dest_uri)?)),
        )
        .await
    }

    /// Moves `domain` to `dest` as `plan` and `request` say.
    pub async fn migrate(
        &self,
        domain: &DomainObject,
        dest: &ConnectionObject,
        plan: MigratePlan,
        request: MigrateRequest,
    ) -> Result<MigrateOutcome, OperationError> {
        // Translators: both host names are always said, e.g. "Moving web from alpha to beta".
        let title = gettext("Moving {vm} from {source} to {dest}")
            .replace("{vm}", &domain.name())
            .replace("{source}", &plan.source_host)
            .replace("{dest}", &plan.dest_host);
        let r = run_job(
            domain,
            &[self.clone(), dest.clone()],
            &title,
            true,
            Box::new(move |c, report, cancel| {
                migrate::run(&c[0], &c[1], &plan, &request, report, cancel)
            }),
        )
        .await;
        self.schedule_refresh(domain.uuid());
        r
    }
}
