//! The error type of the libvirt layer: it always carries libvirt's own message.

use std::ffi::CStr;

/// libvirt's `VIR_ERR_NO_DOMAIN`.
pub const ERR_NO_DOMAIN: i32 = 42;
/// libvirt's `VIR_ERR_NO_DOMAIN_METADATA`.
pub const ERR_NO_DOMAIN_METADATA: i32 = 80;
/// libvirt's `VIR_ERR_NO_SUPPORT`.
pub const ERR_NO_SUPPORT: i32 = 3;
/// libvirt's `VIR_ERR_INVALID_ARG`.
pub const ERR_INVALID_ARG: i32 = 8;
/// libvirt's `VIR_ERR_NO_STORAGE_VOL`.
pub const ERR_NO_STORAGE_VOL: i32 = 50;

/// An error of the libvirt layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VirtError {
    /// A libvirt call failed; `message` is libvirt's own text, unchanged.
    #[error("{message}")]
    Libvirt {
        /// The libvirt function that failed (for logs).
        op: &'static str,
        /// `virErrorNumber`.
        code: i32,
        /// libvirt's message.
        message: String,
    },
    /// There is no open connection (closed, lost or never opened).
    #[error("not connected")]
    NotConnected,
    /// The connection's worker thread is gone.
    #[error("the connection's worker thread stopped")]
    WorkerGone,
    /// XML returned by libvirt could not be read.
    #[error("could not read libvirt's XML: {0}")]
    Xml(String),
    /// A string passed in contained a NUL byte.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl VirtError {
    /// Builds an error from libvirt's last error of this thread and logs it in full.
    pub fn last(op: &'static str) -> Self {
        // SAFETY: virGetLastError returns a pointer to thread-local storage or null.
        let (code, message) = unsafe {
            let e = virt::sys::virGetLastError();
            if e.is_null() || (*e).message.is_null() {
                (0, format!("{op} failed (libvirt gave no message)"))
            } else {
                (
                    (*e).code,
                    CStr::from_ptr((*e).message).to_string_lossy().into_owned(),
                )
            }
        };
        let err = VirtError::Libvirt { op, code, message };
        if code != ERR_NO_DOMAIN_METADATA {
            tracing::debug!(op, code, error = %err, "libvirt call failed");
        }
        err
    }

    /// Converts an error of the `virt` crate's safe calls, keeping libvirt's text.
    pub fn from_crate(op: &'static str) -> impl Fn(virt::error::Error) -> VirtError {
        move |e| VirtError::Libvirt {
            op,
            code: e.code().to_raw() as i32,
            message: e.message().to_owned(),
        }
    }

    /// True when the driver does not offer the call (`VIR_ERR_NO_SUPPORT`).
    pub fn is_unsupported(&self) -> bool {
        self.code() == ERR_NO_SUPPORT
    }

    /// libvirt's error number, 0 when this is not a libvirt error.
    pub fn code(&self) -> i32 {
        match self {
            VirtError::Libvirt { code, .. } => *code,
            _ => 0,
        }
    }

    /// True when libvirt said the domain does not exist (any more).
    pub fn is_no_domain(&self) -> bool {
        self.code() == ERR_NO_DOMAIN
    }
}

impl From<std::ffi::NulError> for VirtError {
    fn from(e: std::ffi::NulError) -> Self {
        VirtError::InvalidArgument(e.to_string())
    }
}

/// Result of the libvirt layer.
pub type Result<T> = std::result::Result<T, VirtError>;

/// Turns a C status (negative = failure) into a result.
pub(crate) fn check(op: &'static str, ret: i32) -> Result<i32> {
    if ret < 0 {
        Err(VirtError::last(op))
    } else {
        Ok(ret)
    }
}
