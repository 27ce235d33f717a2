//! libvirt event registration, turned into plain Rust values.
//!
//! Callbacks run on libvirt's default event loop, which is GLib's default main context
//! (see [`super::init`]). The registrations themselves ([`EventRegistrations`]) live in
//! the FFI room, [`crate::ffi::libvirt_events`]: each owns a boxed [`EventSink`] freed by
//! libvirt's `freecb` when the callback is deregistered, so no callback can see freed
//! data.

use std::sync::Arc;
use std::time::Instant;

/// Receives events; called on the thread running libvirt's event loop.
pub type EventSink = Arc<dyn Fn(VirtEvent) + Send + Sync>;

/// virDomainEventType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleEvent {
    Defined,
    Undefined,
    Started,
    Suspended,
    Resumed,
    Stopped,
    Shutdown,
    PmSuspended,
    Crashed,
    Other(i32),
}

impl LifecycleEvent {
    /// From virDomainEventType.
    pub fn from_raw(v: i32) -> Self {
        match v {
            0 => Self::Defined,
            1 => Self::Undefined,
            2 => Self::Started,
            3 => Self::Suspended,
            4 => Self::Resumed,
            5 => Self::Stopped,
            6 => Self::Shutdown,
            7 => Self::PmSuspended,
            8 => Self::Crashed,
            o => Self::Other(o),
        }
    }
}

/// Which metadata changed (virDomainMetadataType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataKind {
    Description,
    Title,
    Element,
}

/// What happened to a domain.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEventKind {
    /// State change or (un)definition; `detail` is the per-event detail number.
    Lifecycle { event: LifecycleEvent, detail: i32 },
    /// The guest rebooted.
    Reboot,
    /// A device was hot-plugged.
    DeviceAdded { alias: String },
    /// A device was unplugged.
    DeviceRemoved { alias: String },
    /// Title, description or a metadata element changed.
    MetadataChanged {
        kind: MetadataKind,
        ns_uri: Option<String>,
    },
    /// A job (save, migration, dump...) finished.
    JobCompleted,
}

/// A libvirt event, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub enum VirtEvent {
    /// A domain event.
    Domain {
        uuid: String,
        name: String,
        kind: DomainEventKind,
        /// When the callback ran (for latency figures).
        at: Instant,
    },
    /// A virtual network lifecycle event (virNetworkEventLifecycleType and detail).
    Network {
        name: String,
        event: i32,
        detail: i32,
    },
    /// A storage pool lifecycle event (virStoragePoolEventLifecycleType and detail).
    StoragePool {
        name: String,
        event: i32,
        detail: i32,
    },
    /// A storage pool's volumes were re-read (its refresh event).
    StoragePoolRefreshed { name: String },
    /// The connection closed under us (virConnectCloseReason).
    Closed { reason: CloseReason },
}

/// Why libvirt closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Error,
    Eof,
    Keepalive,
    Client,
    Other(i32),
}

impl CloseReason {
    /// From virConnectCloseReason.
    pub fn from_raw(v: i32) -> Self {
        match v {
            0 => Self::Error,
            1 => Self::Eof,
            2 => Self::Keepalive,
            3 => Self::Client,
            o => Self::Other(o),
        }
    }
}

pub use crate::ffi::libvirt_events::EventRegistrations;

/// The state (and virDomain*Reason) a lifecycle event implies, so the model can show
/// it at once, before the authoritative re-read. `None` when the event says nothing
/// certain about the state (definition changes, the guest's "shutdown finished").
pub fn implied_state(
    event: LifecycleEvent,
    detail: i32,
) -> Option<(super::domains::RunState, i32)> {
    use super::domains::RunState as S;
    Some(match event {
        // Started: booted, migrated, restored, from snapshot, wakeup.
        LifecycleEvent::Started => (
            S::Running,
            [1, 2, 3, 4, 8].get(detail as usize).copied().unwrap_or(0),
        ),
        // Suspended: paused, migrated, I/O error, watchdog, restored, from snapshot...
        LifecycleEvent::Suspended => (
            S::Paused,
            [1, 2, 5, 6, 0, 7]
                .get(detail as usize)
                .copied()
                .unwrap_or(0),
        ),
        // Resumed: unpaused, migrated, from snapshot, post-copy.
        LifecycleEvent::Resumed => (
            S::Running,
            [5, 2, 4, 10].get(detail as usize).copied().unwrap_or(0),
        ),
        // Stopped details are the shutoff reasons shifted by one.
        LifecycleEvent::Stopped => (
            S::Shutoff,
            if (0..=7).contains(&detail) {
                detail + 1
            } else {
                0
            },
        ),
        LifecycleEvent::PmSuspended => (S::PmSuspended, 0),
        LifecycleEvent::Crashed => (S::Crashed, 1),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virt::domains::RunState;

    #[test]
    fn lifecycle_implies_state() {
        assert_eq!(
            implied_state(LifecycleEvent::Started, 0),
            Some((RunState::Running, 1))
        );
        assert_eq!(
            implied_state(LifecycleEvent::Suspended, 0),
            Some((RunState::Paused, 1))
        );
        assert_eq!(
            implied_state(LifecycleEvent::Resumed, 0),
            Some((RunState::Running, 5))
        );
        // Stopped/destroyed -> shut off, "destroyed".
        assert_eq!(
            implied_state(LifecycleEvent::Stopped, 1),
            Some((RunState::Shutoff, 2))
        );
        assert_eq!(implied_state(LifecycleEvent::Defined, 0), None);
        assert_eq!(implied_state(LifecycleEvent::Shutdown, 0), None);
        assert_eq!(LifecycleEvent::from_raw(42), LifecycleEvent::Other(42));
    }
}
