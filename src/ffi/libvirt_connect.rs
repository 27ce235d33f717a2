//! Connections: opening with an authentication callback, keepalive, the close
//! callback, liveness, node facts and domain capabilities, and libvirt's last error.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::ptr;

use virt::connect::Connect;
use virt::sys;

use crate::virt::auth::{AuthHandler, AuthPrompt, CredentialKind};
use crate::virt::error::{check, Result, VirtError};
use crate::virt::events::{CloseReason, EventSink, VirtEvent};
use crate::virt::handles::take_c_string;

/// libvirt's last error of this thread: (`virErrorNumber`, message), `None` when there
/// is none or it has no message.
pub fn last_error() -> Option<(i32, String)> {
    // SAFETY: virGetLastError returns null or a pointer to this thread's error, valid
    // until the next libvirt call on this thread; the message is copied at once.
    unsafe {
        let e = sys::virGetLastError();
        if e.is_null() || (*e).message.is_null() {
            return None;
        }
        Some((
            (*e).code,
            CStr::from_ptr((*e).message).to_string_lossy().into_owned(),
        ))
    }
}

/// Copies a C string that libvirt keeps (null gives `None`).
///
/// # Safety
/// `p` must be null or a valid NUL-terminated string for the duration of the call.
unsafe fn borrowed_str(p: *const c_char) -> Option<String> {
    // SAFETY: the caller promises a valid string or null.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

const SUPPORTED_CREDENTIALS: [c_int; 6] = [
    sys::VIR_CRED_USERNAME as c_int,
    sys::VIR_CRED_AUTHNAME as c_int,
    sys::VIR_CRED_PASSPHRASE as c_int,
    sys::VIR_CRED_ECHOPROMPT as c_int,
    sys::VIR_CRED_NOECHOPROMPT as c_int,
    sys::VIR_CRED_REALM as c_int,
];

/// Copies `answer` into memory from `malloc`, as libvirt frees `result` with `free()`.
fn malloc_copy(answer: &str) -> Option<*mut c_char> {
    let bytes = answer.as_bytes();
    // SAFETY: malloc of len + 1 bytes; null is checked before writing.
    let buf = unsafe { libc::malloc(bytes.len() + 1) } as *mut u8;
    if buf.is_null() {
        return None;
    }
    // SAFETY: `buf` holds len + 1 bytes and does not overlap `bytes`.
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
        *buf.add(bytes.len()) = 0;
    }
    Some(buf.cast())
}

unsafe extern "C" fn auth_trampoline(
    creds: sys::virConnectCredentialPtr,
    ncred: c_uint,
    cbdata: *mut c_void,
) -> c_int {
    // SAFETY: `cbdata` is the `&AuthHandler` that `open_with_auth` keeps alive on its
    // stack for the whole synchronous open; `creds` holds `ncred` credentials that
    // libvirt lends us for this call.
    let (handler, creds) = unsafe {
        (
            &*(cbdata as *const &AuthHandler),
            std::slice::from_raw_parts_mut(creds, ncred as usize),
        )
    };
    let mut prompts = Vec::with_capacity(creds.len());
    for c in creds.iter() {
        let Some(kind) = CredentialKind::from_raw(c.type_) else {
            tracing::warn!(
                kind = c.type_,
                "libvirt asked for an unsupported credential"
            );
            return -1;
        };
        // SAFETY: libvirt's prompt strings are null or valid during the callback.
        let (prompt, challenge, default) = unsafe {
            (
                borrowed_str(c.prompt),
                borrowed_str(c.challenge),
                borrowed_str(c.defresult),
            )
        };
        prompts.push(AuthPrompt {
            kind,
            prompt: prompt.unwrap_or_default(),
            challenge: challenge.unwrap_or_default(),
            default,
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
        let Some(buf) = malloc_copy(&answer) else {
            return -1;
        };
        c.result = buf;
        c.resultlen = answer.len() as c_uint;
    }
    0
}

/// Opens `uri` read-write, asking `handler` for any credentials (on this thread: it may
/// block waiting for a person).
pub fn open_with_auth(uri: &str, handler: &AuthHandler) -> Result<Connect> {
    let c_uri = CString::new(uri)?;
    let mut types = SUPPORTED_CREDENTIALS;
    // A thin pointer to the fat trait-object reference.
    let mut handler_ref: &AuthHandler = handler;
    let mut auth = sys::virConnectAuth {
        credtype: types.as_mut_ptr(),
        ncredtype: types.len() as c_uint,
        cb: Some(auth_trampoline),
        cbdata: (&mut handler_ref) as *mut &AuthHandler as *mut c_void,
    };
    // SAFETY: `auth`, `types` and `handler_ref` outlive the synchronous open call; a
    // non-null result is a connection reference that the returned wrapper owns.
    unsafe {
        let p = sys::virConnectOpenAuth(c_uri.as_ptr(), &mut auth, 0);
        if p.is_null() {
            return Err(VirtError::last("virConnectOpenAuth"));
        }
        Ok(Connect::from_ptr(p))
    }
}

/// Asks libvirt to probe the peer every `interval_s` seconds and to drop the
/// connection after `count` unanswered probes. Local drivers refuse.
pub fn set_keepalive(conn: &Connect, interval_s: i32, count: u32) -> Result<()> {
    // SAFETY: valid connection.
    let r = unsafe { sys::virConnectSetKeepAlive(conn.as_ptr(), interval_s, count as c_uint) };
    check("virConnectSetKeepAlive", r).map(drop)
}

/// True while libvirt considers the connection alive.
pub fn is_alive(conn: &Connect) -> bool {
    // SAFETY: valid connection.
    unsafe { sys::virConnectIsAlive(conn.as_ptr()) == 1 }
}

/// The host's CPU count from `virNodeGetInfo`, `None` when unknown.
pub fn node_cpus(conn: &Connect) -> Option<u32> {
    // SAFETY: a zeroed virNodeInfo is a valid out buffer (plain integers and bytes).
    let mut info: sys::virNodeInfo = unsafe { std::mem::zeroed() };
    // SAFETY: valid connection and out pointer.
    let r = unsafe { sys::virNodeGetInfo(conn.as_ptr(), &mut info) };
    (r == 0 && info.cpus > 0).then_some(info.cpus)
}

/// The domain capabilities XML for a domain type, architecture and machine.
pub fn domain_capabilities_xml(
    conn: &Connect,
    virttype: &str,
    arch: &str,
    machine: &str,
) -> Result<String> {
    let vt = CString::new(virttype)?;
    let a = CString::new(arch)?;
    let m = CString::new(machine)?;
    // SAFETY: valid connection and strings; the result is ours to free.
    unsafe {
        take_c_string(sys::virConnectGetDomainCapabilities(
            conn.as_ptr(),
            ptr::null(),
            a.as_ptr(),
            m.as_ptr(),
            vt.as_ptr(),
            0,
        ))
    }
    .ok_or_else(|| VirtError::last("virConnectGetDomainCapabilities"))
}

unsafe extern "C" fn on_close(_conn: sys::virConnectPtr, reason: i32, opaque: *mut c_void) {
    // SAFETY: `opaque` is the sink a `CloseCallback` owns; it outlives the
    // registration (freed only after a successful unregister).
    let sink = unsafe { &*(opaque as *const EventSink) };
    let ev = VirtEvent::Closed {
        reason: CloseReason::from_raw(reason),
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(ev)));
}

/// A registered close callback that reports a dropped connection as
/// [`VirtEvent::Closed`]. Its data is owned here rather than by libvirt: drivers
/// without close-callback support (test, embedded QEMU) accept the registration but
/// never call `freecb`, which would leak it. Give it back with [`Self::unregister`].
pub struct CloseCallback(*mut EventSink);

// SAFETY: the pointer is only dereferenced by libvirt's callback (on the event loop
// thread) and freed by `unregister` after the callback is gone.
unsafe impl Send for CloseCallback {}

impl CloseCallback {
    /// Registers `sink` for `conn`'s close.
    pub fn register(conn: &Connect, sink: &EventSink) -> Result<Self> {
        let data = Box::into_raw(Box::new(sink.clone()));
        // SAFETY: valid connection; `data` stays alive until `unregister`.
        let r = unsafe {
            sys::virConnectRegisterCloseCallback(
                conn.as_ptr(),
                Some(on_close),
                data as *mut c_void,
                None,
            )
        };
        if r < 0 {
            let e = VirtError::last("virConnectRegisterCloseCallback");
            // SAFETY: libvirt did not take the pointer; it came from Box::into_raw.
            drop(unsafe { Box::from_raw(data) });
            return Err(e);
        }
        Ok(CloseCallback(data))
    }

    /// Unregisters the callback. Once unregistered libvirt never calls it again, so the
    /// data can go; if unregistering failed the data is leaked on purpose rather than
    /// risk a call on freed memory.
    pub fn unregister(self, conn: &Connect) {
        // SAFETY: same callback pointer as registered, valid connection.
        let r = unsafe { sys::virConnectUnregisterCloseCallback(conn.as_ptr(), Some(on_close)) };
        if check("virConnectUnregisterCloseCallback", r).is_ok() {
            // SAFETY: allocated by Box::into_raw in register(); no callback can run now.
            drop(unsafe { Box::from_raw(self.0) });
        }
    }
}
