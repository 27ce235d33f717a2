//! One open libvirt connection: auth, keepalive, close callback and event callbacks.
//!
//! A [`Session`] lives on its connection's worker thread. Opening registers the close
//! callback (which reports a dropped connection as [`VirtEvent::Closed`] through the
//! same sink as the other events) and keepalive, so a dead remote host is noticed in
//! about 15 s instead of at the next call's TCP timeout.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use virt::connect::Connect;
use virt::sys;

use super::auth::{open_with_auth, AuthHandler};
use super::error::{check, Result, VirtError};
use super::events::{CloseReason, EventRegistrations, EventSink, VirtEvent};
use super::handles::{release_connect, take_c_string, DomainRef};
use crate::ffi::libvirt_events::PoolRefreshEvents;

/// Keepalive: a probe every 5 s, the connection is dead after 3 unanswered ones.
pub const KEEPALIVE_INTERVAL_S: i32 = 5;
/// See [`KEEPALIVE_INTERVAL_S`].
pub const KEEPALIVE_COUNT: u32 = 3;

/// The delay before reconnect attempt number `attempt` (0-based): 1, 2, 4, 8, 16, then
/// 30 s for every later attempt.
pub fn reconnect_delay(attempt: u32) -> Duration {
    let secs = 1u64.checked_shl(attempt).unwrap_or(u64::MAX).min(30);
    Duration::from_secs(secs)
}

unsafe extern "C" fn on_close(_conn: sys::virConnectPtr, reason: i32, opaque: *mut c_void) {
    let sink = &*(opaque as *const EventSink);
    let ev = VirtEvent::Closed {
        reason: CloseReason::from_raw(reason),
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(ev)));
}

/// The close callback's data, owned by the session rather than by libvirt: drivers
/// without close-callback support (test, embedded QEMU) accept the registration but
/// never call `freecb`, which would leak it.
struct CloseData(*mut EventSink);

// SAFETY: the pointer is only dereferenced by libvirt's callback (on the event loop
// thread) and freed by the session after the callback is unregistered.
unsafe impl Send for CloseData {}

/// An open connection with its callbacks. Close it with [`Session::close`] (dropping
/// does the same).
pub struct Session {
    conn: Option<Connect>,
    events: EventRegistrations,
    pool_refresh: Option<PoolRefreshEvents>,
    close_cb: Option<CloseData>,
    /// The URI as given.
    pub uri: String,
    /// The host's name as libvirt reports it.
    pub hostname: String,
    /// Host CPUs (for the host-relative CPU figure).
    pub host_cpus: u32,
    /// Domains whose title and description are still to be read (see
    /// [`super::domains::read_metadata_batch`]).
    pub pending_metadata: Vec<DomainRef>,
}

impl Session {
    /// Opens `uri`, asking `auth` for credentials, and registers keepalive, the close
    /// callback and the event callbacks feeding `sink`.
    pub fn open(uri: &str, auth: &AuthHandler, sink: EventSink) -> Result<Session> {
        let conn = open_with_auth(uri, auth)?;
        let mut session = Session {
            conn: Some(conn),
            events: EventRegistrations::default(),
            pool_refresh: None,
            close_cb: None,
            uri: uri.to_owned(),
            hostname: String::new(),
            host_cpus: 1,
            pending_metadata: Vec::new(),
        };
        // SAFETY: only copies the pointer; the session keeps the reference.
        let conn_ptr = unsafe { session.conn().as_ptr() };
        // SAFETY: valid connection for all raw calls below.
        unsafe {
            // Local drivers have no keepalive and say so; that is fine.
            let r =
                sys::virConnectSetKeepAlive(conn_ptr, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT as _);
            if r < 0 {
                let e = VirtError::last("virConnectSetKeepAlive");
                tracing::debug!(uri, error = %e, "no keepalive on this connection");
            }
            let data = Box::into_raw(Box::new(sink.clone()));
            let r = sys::virConnectRegisterCloseCallback(
                conn_ptr,
                Some(on_close),
                data as *mut c_void,
                None,
            );
            if r < 0 {
                drop(Box::from_raw(data));
                let e = VirtError::last("virConnectRegisterCloseCallback");
                tracing::debug!(uri, error = %e, "no close callback on this connection");
            } else {
                session.close_cb = Some(CloseData(data));
            }
            session.hostname =
                take_c_string(sys::virConnectGetHostname(conn_ptr)).unwrap_or_default();
            let mut info: sys::virNodeInfo = std::mem::zeroed();
            if sys::virNodeGetInfo(conn_ptr, &mut info) == 0 && info.cpus > 0 {
                session.host_cpus = info.cpus;
            }
        }
        session.events = EventRegistrations::register(session.conn(), &sink)?;
        // A driver without storage has no refresh event either: that is fine.
        let refresh_sink = sink.clone();
        session.pool_refresh = PoolRefreshEvents::register(
            session.conn(),
            Arc::new(move |name| refresh_sink(VirtEvent::StoragePoolRefreshed { name })),
        )
        .map_err(|e| tracing::debug!(uri, error = %e, "no pool refresh events"))
        .ok();
        tracing::debug!(uri, hostname = %session.hostname, "connection open");
        Ok(session)
    }

    /// The libvirt connection.
    pub fn conn(&self) -> &Connect {
        self.conn
            .as_ref()
            .expect("a Session always holds its connection until closed")
    }

    /// True while libvirt considers the connection alive.
    pub fn is_alive(&self) -> bool {
        // SAFETY: valid connection.
        unsafe { sys::virConnectIsAlive(self.conn().as_ptr()) == 1 }
    }

    /// Deregisters callbacks and closes the connection.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        self.pending_metadata.clear();
        self.events.deregister(&conn);
        if let Some(r) = self.pool_refresh.take() {
            r.deregister(&conn);
        }
        if let Some(CloseData(data)) = self.close_cb.take() {
            // SAFETY: same callback pointer as registered. Once unregistered libvirt
            // never calls it again, so the data can go; if unregistering failed the
            // data is leaked on purpose rather than risk a call on freed memory.
            let r =
                unsafe { sys::virConnectUnregisterCloseCallback(conn.as_ptr(), Some(on_close)) };
            if check("virConnectUnregisterCloseCallback", r).is_ok() {
                // SAFETY: allocated by Box::into_raw in open().
                drop(unsafe { Box::from_raw(data) });
            }
        }
        tracing::debug!(uri = %self.uri, "connection closed");
        release_connect(conn);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps_at_30s() {
        let secs: Vec<u64> = (0..8).map(|a| reconnect_delay(a).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(reconnect_delay(200).as_secs(), 30);
    }
}
