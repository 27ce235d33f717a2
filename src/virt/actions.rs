//! Lifecycle actions on one domain; each failure carries libvirt's own message.

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError, ERR_INVALID_ARG, ERR_NO_SUPPORT};
use super::handles::{DomainRef, VolRef};
use crate::ffi::libvirt_domain::undefine_domain;
use crate::ffi::libvirt_storage::vol_delete;

/// What to do to a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Boot (or restore the managed save image when there is one).
    Start,
    /// ACPI shutdown request.
    Shutdown,
    /// ACPI reboot request.
    Reboot,
    /// Pull the plug.
    ForceOff,
    /// Press the reset button.
    Reset,
    Pause,
    Resume,
    /// Save memory to the host's managed save image and stop.
    ManagedSave,
    SetAutostart(bool),
    Rename(String),
    /// Destroy if running, undefine with managed save, snapshot and checkpoint
    /// metadata and NVRAM, then delete the listed storage volumes (host paths).
    Delete {
        remove_storage: Vec<String>,
    },
}

/// Undefine flags, most thorough first; later entries are fallbacks for drivers that
/// reject a flag.
const UNDEFINE_FLAGS: [u32; 4] = [
    sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
        | sys::VIR_DOMAIN_UNDEFINE_NVRAM,
    sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | sys::VIR_DOMAIN_UNDEFINE_NVRAM,
    sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
    0,
];

/// Runs `action` on the domain with `uuid`.
pub fn run(conn: &Connect, uuid: &str, action: &Action) -> Result<()> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    tracing::debug!(uuid, ?action, "domain action");
    let r = match action {
        Action::Start => d.create(),
        Action::Shutdown => d.shutdown(),
        Action::Reboot => d.reboot(),
        Action::ForceOff => d.destroy(),
        Action::Reset => d.reset(),
        Action::Pause => d.suspend(),
        Action::Resume => d.resume(),
        Action::ManagedSave => d.managed_save(),
        Action::SetAutostart(on) => d.set_autostart(*on),
        Action::Rename(name) => d.rename(name),
        Action::Delete { remove_storage } => {
            return delete(conn, &d, remove_storage);
        }
    };
    if let Err(e) = &r {
        tracing::warn!(uuid, ?action, error = %e, "domain action failed");
    }
    r
}

fn delete(conn: &Connect, d: &DomainRef, volumes: &[String]) -> Result<()> {
    if d.is_active() {
        d.destroy()?;
    }
    // A transient domain is gone once destroyed.
    if d.is_persistent()? {
        let mut last = None;
        for flags in UNDEFINE_FLAGS {
            match undefine_domain(d, flags) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) if matches!(e.code(), ERR_INVALID_ARG | ERR_NO_SUPPORT) => {
                    tracing::debug!(flags, error = %e, "undefine flags refused, trying fewer");
                    last = Some(e);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "undefine failed");
                    return Err(e);
                }
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
    }
    // Every volume is attempted; the first failure is reported.
    let mut first_err: Option<VirtError> = None;
    for path in volumes {
        let r = VolRef::lookup_path(conn, path).and_then(|v| vol_delete(&v));
        if let Err(e) = r {
            tracing::warn!(path, error = %e, "could not delete a volume");
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// The domain's XML (`inactive`: the persistent definition rather than the live one).
pub fn domain_xml(conn: &Connect, uuid: &str, inactive: bool) -> Result<String> {
    let d = DomainRef::lookup_uuid(conn, uuid)?;
    let mut flags = sys::VIR_DOMAIN_XML_SECURE;
    if inactive {
        flags |= sys::VIR_DOMAIN_XML_INACTIVE;
    }
    d.xml_desc(flags)
}
