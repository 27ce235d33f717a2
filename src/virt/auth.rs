//! libvirt's authentication callback, relayed to a Rust closure.
//!
//! The `virt` crate's `ConnectAuthCallback` is a plain `fn` pointer with no user data,
//! so it cannot reach the connection that asked. [`open_with_auth`] (in the FFI room)
//! calls `virConnectOpenAuth` itself with `cbdata` pointing at the handler, which lives
//! on the opening thread's stack for the duration of the (synchronous) open.

use std::ffi::c_int;

use virt::sys;

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
    /// From `virConnectCredentialType`; `None` for a kind Vireo cannot ask for.
    pub(crate) fn from_raw(t: c_int) -> Option<Self> {
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

pub use crate::ffi::libvirt_connect::open_with_auth;
