//! libvirt's authentication callback, relayed to a Rust closure.
//!
//! The `virt` crate's `ConnectAuthCallback` is a plain `fn` pointer with no user data,
//! so it cannot reach the connection that asked. We call `virConnectOpenAuth` ourselves
//! with `cbdata` pointing at the handler, which lives on the opening thread's stack for
//! the duration of the (synchronous) open.

use std::ffi::{c_int, c_uint, c_void, CStr, CString};
use std::ptr;

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError};

/// What libvirt asks for in one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A user name.
    UserName,
    /// An authentication (SASL) name.
    AuthName,
    /// A password or passphrase.
    Passphrase,
    /// A free answer shown while typed.
    EchoPrompt,
    /// A free answer hidden while typed.
    NoEchoPrompt,
    /// An authentication realm.
    Realm,
}

impl CredentialKind {
    fn from_raw(t: c_int) -> Option<Self> {
        Some(match t as sys::virConnectCredentialType {
            sys::VIR_CRED_USERNAME => Self::UserName,
            sys::VIR_CRED_AUTHNAME => Self::AuthName,
            sys::VIR_CRED_PASSPHRASE => Self::Passphrase,
            sys::VIR_CRED_ECHOPROMPT => Self::EchoPrompt,
            sys::VIR_CRED_NOECHOPROMPT => Self::NoEchoPrompt,
            sys::VIR_CRED_REALM => Self::Realm,
            _ => return None,
        })
    }

    /// True when the answer must not be shown while typed.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::Passphrase | Self::NoEchoPrompt)
    }
}

/// One question of libvirt's auth callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPrompt {
    /// What is asked.
    pub kind: CredentialKind,
    /// libvirt's prompt text (already localised by libvirt or the SASL mechanism).
    pub prompt: String,
    /// Extra challenge text, may be empty.
    pub challenge: String,
    /// libvirt's default answer, if any.
    pub default: Option<String>,
}

impl AuthPrompt {
    /// True when the answer must be hidden.
    pub fn is_secret(&self) -> bool {
        self.kind.is_secret()
    }
}

/// Answers a set of prompts on the opening thread (it may block waiting for a person).
/// `None` cancels the login.
pub type AuthHandler = dyn Fn(Vec<AuthPrompt>) -> Option<Vec<String>> + Send + Sync;

const SUPPORTED: [c_int; 6] = [
    sys::VIR_CRED_USERNAME as c_int,
    sys::VIR_CRED_AUTHNAME as c_int,
    sys::VIR_CRED_PASSPHRASE as c_int,
    sys::VIR_CRED_ECHOPROMPT as c_int,
    sys::VIR_CRED_NOECHOPROMPT as c_int,
    sys::VIR_CRED_REALM as c_int,
];

unsafe fn opt_str(p: *const std::ffi::c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

unsafe extern "C" fn auth_trampoline(
    creds: sys::virConnectCredentialPtr,
    ncred: c_uint,
    cbdata: *mut c_void,
) -> c_int {
    let handler = &*(cbdata as *const &AuthHandler);
    let creds = std::slice::from_raw_parts_mut(creds, ncred as usize);
    let mut prompts = Vec::with_capacity(creds.len());
    for c in creds.iter() {
        let Some(kind) = CredentialKind::from_raw(c.type_) else {
            tracing::warn!(
                kind = c.type_,
                "libvirt asked for an unsupported credential"
            );
            return -1;
        };
        prompts.push(AuthPrompt {
            kind,
            prompt: opt_str(c.prompt).unwrap_or_default(),
            challenge: opt_str(c.challenge).unwrap_or_default(),
            default: opt_str(c.defresult),
        });
    }
    // A panic must not unwind into C.
    let answers = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(prompts)))
    {
        Ok(Some(a)) if a.len() == creds.len() => a,
        Ok(Some(_)) => {
            tracing::warn!("auth handler returned the wrong number of answers");
            return -1;
        }
        Ok(None) | Err(_) => return -1,
    };
    for (c, answer) in creds.iter_mut().zip(answers) {
        // libvirt frees `result` with free(), so it must come from malloc.
        let bytes = answer.as_bytes();
        let buf = libc::malloc(bytes.len() + 1) as *mut u8;
        if buf.is_null() {
            return -1;
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        *buf.add(bytes.len()) = 0;
        c.result = buf.cast();
        c.resultlen = bytes.len() as c_uint;
    }
    0
}

/// Opens `uri` read-write, asking `handler` for any credentials.
pub fn open_with_auth(uri: &str, handler: &AuthHandler) -> Result<Connect> {
    let c_uri = CString::new(uri)?;
    let mut types = SUPPORTED;
    // A thin pointer to the fat trait-object reference.
    let mut handler_ref: &AuthHandler = handler;
    let mut auth = sys::virConnectAuth {
        credtype: types.as_mut_ptr(),
        ncredtype: types.len() as c_uint,
        cb: Some(auth_trampoline),
        cbdata: (&mut handler_ref) as *mut &AuthHandler as *mut c_void,
    };
    // SAFETY: `auth`, `types` and `handler_ref` outlive the synchronous open call.
    unsafe {
        let p = sys::virConnectOpenAuth(c_uri.as_ptr(), &mut auth, 0);
        if p.is_null() {
            return Err(VirtError::last("virConnectOpenAuth"));
        }
        Ok(Connect::from_ptr(p))
    }
}
