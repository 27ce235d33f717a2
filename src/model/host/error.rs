//! Why a request about a host's storage or networks failed, as the page shows it.

use gettextrs::gettext;

use crate::model::connection_object::error_text;
use crate::virt::host::transfer::TransferError;
use crate::virt::VirtError;

/// Why a host request failed. Its text is what the page shows: libvirt's own message
/// when libvirt refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// libvirt refused, or the connection is gone.
    Virt(VirtError),
    /// A local file could not be read or written: the system's text.
    File(String),
    /// The person cancelled.
    Cancelled,
    /// The object is no longer on the host (removed by someone else meanwhile).
    Gone,
    /// Another transfer of the same volume is running.
    Busy,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::Virt(e) => f.write_str(&error_text(e)),
            HostError::File(text) => f.write_str(text),
            HostError::Cancelled => f.write_str(&gettext("Cancelled")),
            HostError::Gone => f.write_str(&gettext("It is no longer on the host")),
            HostError::Busy => {
                f.write_str(&gettext("A transfer of this volume is already running"))
            }
        }
    }
}

impl std::error::Error for HostError {}

impl From<VirtError> for HostError {
    fn from(e: VirtError) -> Self {
        HostError::Virt(e)
    }
}

impl From<TransferError> for HostError {
    fn from(e: TransferError) -> Self {
        match e {
            TransferError::Virt(v) => HostError::Virt(v),
            TransferError::Io(io) => HostError::File(io.to_string()),
            TransferError::Cancelled => HostError::Cancelled,
        }
    }
}
