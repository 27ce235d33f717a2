//! Cloning a VM, as typed async methods of its connection: the plan is read on the
//! worker, the clone is made as an operation with progress and Cancel.

use gettextrs::gettext;

use super::operation::{run_job, OperationError};
use super::{ConnectionObject, DomainObject};
use crate::virt::clone;
use crate::virt::job::JobError;
use crate::virt::VirtError;

pub use crate::virt::clone::{
    action_for, check_request, CloneDisk, ClonePlan, CloneRequest, CloneRequestError, DiskAction,
    DiskNote,
};

impl ConnectionObject {
    /// The names of the VMs on this host (for free names and checks).
    pub fn listed_domain_names(&self) -> Vec<String> {
        self.domains().snapshot().iter().map(|d| d.name()).collect()
    }

    /// What a clone of `domain` would be: a free name, each disk's choices.
    pub async fn prepare_clone(&self, domain: &DomainObject) -> Result<ClonePlan, VirtError> {
        let uuid = domain.uuid();
        let taken = self.listed_domain_names();
        self.worker()
            .run(move |st| clone::prepare(st.session()?.conn(), &uuid, &taken))
            .await?
    }

    /// Makes the clone; returns its UUID. The VM appears in the list from libvirt's
    /// event once defined. Cancel removes what was made.
    pub async fn clone_domain(
        &self,
        domain: &DomainObject,
        plan: ClonePlan,
        request: CloneRequest,
    ) -> Result<String, OperationError> {
        if let Err(e) = check_request(&plan, &request, &self.listed_domain_names()) {
            return Err(JobError::Virt(VirtError::InvalidArgument(e.to_string())).into());
        }
        let title = gettext("Cloning {vm} as {clone}")
            .replace("{vm}", &domain.name())
            .replace("{clone}", &request.name);
        run_job(
            domain,
            std::slice::from_ref(self),
            &title,
            true,
            Box::new(move |conns, report, cancel| {
                clone::run(&conns[0], &plan, &request, report, cancel)
            }),
        )
        .await
    }
}
