//! What the New Virtual Machine wizard asks of a host, as typed async methods of
//! [`ConnectionObject`] that run their libvirt work on the connection's worker: the
//! host's facts, domain capabilities for another machine type, the names in use, and
//! creating the VM with
//! everything it needs (cloud-init seed, a network install's kernel, volumes,
//! definition, first start; what was made is removed again when a step fails).
//! Also the osinfo database and medium detection, read on GLib's thread pool. The
//! host's pools and networks are the host model's (`ConnectionObject::host()`).
//!
//! The plain data types the wizard works with are defined in `virt::new_vm` and
//! `virt::osinfo`; they are re-exported here so that widgets need nothing of `virt`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use virt::connect::Connect;

use super::connection_object::error_text;
use super::ConnectionObject;
use crate::virt::cloud_init::{self, SeedError};
use crate::virt::new_vm::tree::{self, FetchError};
use crate::virt::new_vm::{create, host, CreatePlan};
use crate::virt::VirtError;

pub use crate::virt::capabilities::{DomainCapabilities, HostCapabilities};
pub use crate::virt::new_vm::host::HostInfo;
pub use crate::virt::new_vm::{
    validate, CloudInit, Created, DiskFormat, DisplayProtocol, Field, Firmware, HostLimits,
    InstallMethod, MediaSource, NetworkChoice, NewVmSpec, OsProfile, Problem, Storage,
};
pub use crate::virt::osinfo::{OsDb, OsInfo, OsinfoError, Resources};
pub use crate::virt::uri::UriInfo;
pub use media_upload::{MediumUpload, DEFAULT_POOL};

mod media_upload;

/// Why a request of the wizard failed. Its text is what the wizard shows: libvirt's
/// own message when libvirt refused.
#[derive(Debug, thiserror::Error)]
pub enum NewVmError {
    /// libvirt refused, or the connection is gone.
    #[error("{}", error_text(.0))]
    Virt(#[from] VirtError),
    /// The cloud-init seed could not be made.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A network install's kernel or initrd could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A local file (seed, fetched kernel) could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The host's pools refused (uploading a local install medium).
    #[error(transparent)]
    Host(#[from] super::host::HostError),
}

impl ConnectionObject {
    /// Runs `f` with the open connection on the worker.
    async fn on_worker<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connect) -> Result<R, NewVmError> + Send + 'static,
    ) -> Result<R, NewVmError> {
        self.worker().run(move |st| f(st.session()?.conn())).await?
    }

    /// Everything the wizard offers choices from: capabilities, domain capabilities of
    /// the default machine, names in use, storage pools and their ISO volumes.
    pub async fn new_vm_host(&self) -> Result<HostInfo, NewVmError> {
        self.on_worker(|c| Ok(host::gather(c)?)).await
    }

    /// Domain capabilities (UEFI, vCPU limit) of another domain type, architecture and
    /// machine type; `None` when the driver has none.
    pub async fn domain_capabilities(
        &self,
        virttype: &str,
        arch: &str,
        machine: &str,
    ) -> Result<Option<DomainCapabilities>, NewVmError> {
        let (t, a, m) = (virttype.to_owned(), arch.to_owned(), machine.to_owned());
        self.on_worker(move |c| Ok(host::domcaps(c, &t, &a, &m)?))
            .await
    }

    /// The names of every defined and running domain, read afresh from the host.
    pub async fn domain_names(&self) -> Result<Vec<String>, NewVmError> {
        self.on_worker(|c| Ok(host::domain_names(c)?)).await
    }

    /// Creates the VM `spec` describes, and starts it when `start`. Makes the
    /// "default" pool when a volume needs it and the host has none (as virt-manager
    /// does; it stays). When any step fails, the volumes and the definition made so far
    /// are removed again and the failing step's error is returned; temporary files
    /// (seed, fetched kernel) never stay.
    pub async fn create_vm(&self, spec: NewVmSpec, start: bool) -> Result<Created, NewVmError> {
        let pool_path = self.default_pool_path();
        // cloud-init runs again in a guest whose instance id changes: make it unique.
        let instance_id = format!("{}-{}", spec.name, glib::real_time());
        self.on_worker(move |c| {
            let scratch = std::env::temp_dir().join(format!(
                "vireo-new-vm-{}-{}",
                spec.name,
                std::process::id()
            ));
            let made = plan_and_create(c, &spec, &scratch, pool_path, &instance_id, start);
            let _ = std::fs::remove_dir_all(&scratch);
            made
        })
        .await
    }
}

/// Prepares what the plan uploads (in `scratch`), then creates (on the worker).
fn plan_and_create(
    conn: &Connect,
    spec: &NewVmSpec,
    scratch: &std::path::Path,
    pool_path: String,
    instance_id: &str,
    start: bool,
) -> Result<Created, NewVmError> {
    let seed = match &spec.install {
        InstallMethod::CloudImage { cloud_init: ci, .. } => Some(cloud_init::build_seed_iso(
            &scratch.join("seed"),
            ci,
            &spec.name,
            instance_id,
        )?),
        _ => None,
    };
    let mut plan = CreatePlan::from_spec(spec, seed.as_deref(), Some(pool_path), start)?;
    if let InstallMethod::NetworkTree { url, .. } = &spec.install {
        let (kernel, initrd) = tree::fetch_boot_files(url, &spec.arch, &scratch.join("tree"))?;
        plan.add_tree_files(spec, &kernel, &initrd)?;
    }
    Ok(create(conn, &plan)?)
}

/// The system's osinfo database, read once per process on GLib's thread pool (a few
/// hundred files); later calls return the same one at once.
pub async fn os_database() -> Result<Arc<OsDb>, OsinfoError> {
    static DB: OnceLock<Arc<OsDb>> = OnceLock::new();
    if let Some(db) = DB.get() {
        return Ok(db.clone());
    }
    let loaded = gio::spawn_blocking(OsDb::load_system)
        .await
        .unwrap_or_else(|_| Err(OsinfoError::Empty(PathBuf::from("(the reader stopped)"))))?;
    Ok(DB.get_or_init(|| Arc::new(loaded)).clone())
}

/// The osinfo id of the OS on the local medium `path` (`None`: not recognised or not
/// readable), read on GLib's thread pool.
pub async fn identify_medium(db: Arc<OsDb>, path: String, arch: String) -> Option<String> {
    gio::spawn_blocking(move || {
        let arch = (!arch.is_empty()).then_some(arch);
        db.identify_file(std::path::Path::new(&path), arch.as_deref())
            .ok()
            .flatten()
            .map(|(os, _)| os.id.clone())
    })
    .await
    .ok()
    .flatten()
}
