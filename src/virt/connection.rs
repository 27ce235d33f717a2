//! One open libvirt connection: auth, keepalive, close callback and event callbacks.
//!
//! A [`Session`] lives on its connection's worker thread. Opening registers the close
//! callback (which reports a dropped connection as [`VirtEvent::Closed`] through the
//! same sink as the other events) and keepalive, so a dead remote host is noticed in
//! 12 s (a probe every 3 s, given up after 3 unanswered: libvirt closes the connection
//! at interval x (count + 1)) instead of at the next call's TCP timeout.

use std::sync::Arc;

use virt::connect::Connect;

use super::auth::{open_with_auth, AuthHandler};
use super::error::Result;
use super::events::{EventRegistrations, EventSink, VirtEvent};
use super::handles::{release_connect, DomainRef};
use crate::ffi::libvirt_connect::{self as raw, CloseCallback};
use crate::ffi::libvirt_domain::hostname;
use crate::ffi::libvirt_events::PoolRefreshEvents;

/// Keepalive: a probe every 3 s, the connection is dead after 3 unanswered ones (12 s
/// after the host fell silent; the issue asks for 15 s at most).
pub const KEEPALIVE_INTERVAL_S: i32 = 3;
/// See [`KEEPALIVE_INTERVAL_S`].
pub const KEEPALIVE_COUNT: u32 = 3;

/// An open connection with its callbacks. Close it with [`Session::close`] (dropping
/// does the same).
pub struct Session {
    conn: Option<Connect>,
    events: EventRegistrations,
    pool_refresh: Option<PoolRefreshEvents>,
    close_cb: Option<CloseCallback>,
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
        // Local drivers have no keepalive and say so; that is fine.
        if let Err(e) = raw::set_keepalive(session.conn(), KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) {
            tracing::debug!(uri, error = %e, "no keepalive on this connection");
        }
        match CloseCallback::register(session.conn(), &sink) {
            Ok(cb) => session.close_cb = Some(cb),
            Err(e) => tracing::debug!(uri, error = %e, "no close callback on this connection"),
        }
        session.hostname = hostname(session.conn()).unwrap_or_default();
        if let Some(cpus) = raw::node_cpus(session.conn()) {
            session.host_cpus = cpus;
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
        raw::is_alive(self.conn())
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
        if let Some(cb) = self.close_cb.take() {
            cb.unregister(&conn);
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
