//! Lifecycle actions on one domain; each failure carries libvirt's own message.

use std::ffi::CString;

use virt::connect::Connect;
use virt::sys;

use super::error::{check, Result, VirtError, ERR_INVALID_ARG, ERR_NO_SUPPORT};
use super::handles::{DomainRef, VolRef};

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
    let p = d.as_ptr();
    tracing::debug!(uuid, ?action, "domain action");
    // SAFETY: `p` is a valid domain reference owned by `d` for the whole match.
    let r = unsafe {
        match action {
            Action::Start => check("virDomainCreate", sys::virDomainCreate(p)),
            Action::Shutdown => check("virDomainShutdown", sys::virDomainShutdown(p)),
            Action::Reboot => check("virDomainReboot", sys::virDomainReboot(p, 0)),
            Action::ForceOff => check("virDomainDestroy", sys::virDomainDestroy(p)),
            Action::Reset => check("virDomainReset", sys::virDomainReset(p, 0)),
            Action::Pause => check("virDomainSuspend", sys::virDomainSuspend(p)),
            Action::Resume => check("virDomainResume", sys::virDomainResume(p)),
            Action::ManagedSave => check("virDomainManagedSave", sys::virDomainManagedSave(p, 0)),
            Action::SetAutostart(on) => check(
                "virDomainSetAutostart",
                sys::virDomainSetAutostart(p, i32::from(*on)),
            ),
            Action::Rename(name) => {
                let c = CString::new(name.as_str())?;
                check("virDomainRename", sys::virDomainRename(p, c.as_ptr(), 0))
            }
            Action::Delete { remove_storage } => {
                return delete(conn, &d, remove_storage);
            }
        }
    };
    if let Err(e) = &r {
        tracing::warn!(uuid, ?action, error = %e, "domain action failed");
    }
    r.map(|_| ())
}

fn delete(conn: &Connect, d: &DomainRef, volumes: &[String]) -> Result<()> {
    let p = d.as_ptr();
    // SAFETY: valid domain reference.
    unsafe {
        if sys::virDomainIsActive(p) == 1 {
            check("virDomainDestroy", sys::virDomainDestroy(p))?;
        }
        // A transient domain is gone once destroyed.
        if sys::virDomainIsPersistent(p) == 1 {
            let mut last = None;
            for flags in UNDEFINE_FLAGS {
                match check(
                    "virDomainUndefineFlags",
                    sys::virDomainUndefineFlags(p, flags),
                ) {
                    Ok(_) => {
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
    }
    // Every volume is attempted; the first failure is reported.
    let mut first_err: Option<VirtError> = None;
    for path in volumes {
        let r = VolRef::lookup_path(conn, path).and_then(|v| {
            // SAFETY: valid volume reference.
            check("virStorageVolDelete", unsafe {
                sys::virStorageVolDelete(v.as_ptr(), 0)
            })
        });
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
    // SAFETY: valid domain; the string is ours to free.
    unsafe {
        let s = sys::virDomainGetXMLDesc(d.as_ptr(), flags);
        super::handles::take_c_string(s).ok_or_else(|| VirtError::last("virDomainGetXMLDesc"))
    }
}
