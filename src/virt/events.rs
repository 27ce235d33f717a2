//! libvirt event registration, turned into plain Rust values.
//!
//! Callbacks run on libvirt's default event loop, which is GLib's default main context
//! (see [`super::init`]). Each registration owns a boxed [`EventSink`] freed by
//! libvirt's `freecb` when the callback is deregistered, so no callback can see freed
//! data. The typed C callbacks are cast to libvirt's generic callback type, as the C
//! API requires; each is registered under the event id whose signature it has.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;
use std::time::Instant;

use virt::connect::Connect;
use virt::sys;

use super::error::{check, Result};
use super::handles::format_uuid;

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

type Opaque = EventSink;

unsafe fn sink<'a>(opaque: *mut c_void) -> &'a Opaque {
    &*(opaque as *const Opaque)
}

unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    drop(Box::from_raw(opaque as *mut Opaque));
}

unsafe fn emit_domain(dom: sys::virDomainPtr, opaque: *mut c_void, kind: DomainEventKind) {
    let at = Instant::now();
    let mut raw = [0u8; 16];
    if dom.is_null() || sys::virDomainGetUUID(dom, raw.as_mut_ptr()) < 0 {
        return;
    }
    let name = {
        let p = sys::virDomainGetName(dom);
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    let ev = VirtEvent::Domain {
        uuid: format_uuid(&raw),
        name,
        kind,
        at,
    };
    let s = sink(opaque);
    // Never unwind into libvirt.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s(ev)));
}

unsafe fn opt_str(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

unsafe extern "C" fn on_lifecycle(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    let kind = DomainEventKind::Lifecycle {
        event: LifecycleEvent::from_raw(event),
        detail,
    };
    emit_domain(dom, opaque, kind);
    0
}

unsafe extern "C" fn on_reboot(_c: sys::virConnectPtr, dom: sys::virDomainPtr, o: *mut c_void) {
    emit_domain(dom, o, DomainEventKind::Reboot);
}

unsafe extern "C" fn on_device_added(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    o: *mut c_void,
) {
    let alias = opt_str(alias).unwrap_or_default();
    emit_domain(dom, o, DomainEventKind::DeviceAdded { alias });
}

unsafe extern "C" fn on_device_removed(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    o: *mut c_void,
) {
    let alias = opt_str(alias).unwrap_or_default();
    emit_domain(dom, o, DomainEventKind::DeviceRemoved { alias });
}

unsafe extern "C" fn on_metadata(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    kind: c_int,
    ns_uri: *const c_char,
    o: *mut c_void,
) {
    let kind = match kind {
        0 => MetadataKind::Description,
        1 => MetadataKind::Title,
        _ => MetadataKind::Element,
    };
    let ns_uri = opt_str(ns_uri);
    emit_domain(dom, o, DomainEventKind::MetadataChanged { kind, ns_uri });
}

unsafe extern "C" fn on_job_completed(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _params: sys::virTypedParameterPtr,
    _nparams: c_int,
    o: *mut c_void,
) {
    emit_domain(dom, o, DomainEventKind::JobCompleted);
}

unsafe extern "C" fn on_network(
    _c: sys::virConnectPtr,
    net: sys::virNetworkPtr,
    event: c_int,
    detail: c_int,
    o: *mut c_void,
) {
    let name = opt_str(sys::virNetworkGetName(net)).unwrap_or_default();
    let s = sink(o);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s(VirtEvent::Network {
            name,
            event,
            detail,
        })
    }));
}

unsafe extern "C" fn on_pool(
    _c: sys::virConnectPtr,
    pool: sys::virStoragePoolPtr,
    event: c_int,
    detail: c_int,
    o: *mut c_void,
) {
    let name = opt_str(sys::virStoragePoolGetName(pool)).unwrap_or_default();
    let s = sink(o);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s(VirtEvent::StoragePool {
            name,
            event,
            detail,
        })
    }));
}

/// Generic callback type the register calls take.
type Generic = unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void);
type GenericNet = unsafe extern "C" fn(sys::virConnectPtr, sys::virNetworkPtr, *mut c_void);
type GenericPool = unsafe extern "C" fn(sys::virConnectPtr, sys::virStoragePoolPtr, *mut c_void);

/// The callbacks registered on one connection; deregister them before closing it.
#[derive(Debug, Default)]
pub struct EventRegistrations {
    domain: Vec<c_int>,
    network: Vec<c_int>,
    pool: Vec<c_int>,
}

fn boxed(sink: &EventSink) -> *mut c_void {
    Box::into_raw(Box::new(sink.clone())) as *mut c_void
}

impl EventRegistrations {
    /// Registers every event Vireo follows. Network and pool events are optional (a
    /// driver without networks refuses them); domain lifecycle events are not.
    pub fn register(conn: &Connect, sink: &EventSink) -> Result<Self> {
        let mut regs = EventRegistrations::default();
        // SAFETY: each callback is cast to the generic type from the exact signature
        // libvirt uses for its event id; opaque is freed by free_sink.
        unsafe {
            let domain_cbs: [(i32, Generic); 6] = [
                (
                    sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as i32,
                    std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            c_int,
                            c_int,
                            *mut c_void,
                        ) -> c_int,
                        Generic,
                    >(on_lifecycle),
                ),
                (sys::VIR_DOMAIN_EVENT_ID_REBOOT as i32, on_reboot as Generic),
                (
                    sys::VIR_DOMAIN_EVENT_ID_DEVICE_ADDED as i32,
                    std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            *const c_char,
                            *mut c_void,
                        ),
                        Generic,
                    >(on_device_added),
                ),
                (
                    sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED as i32,
                    std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            *const c_char,
                            *mut c_void,
                        ),
                        Generic,
                    >(on_device_removed),
                ),
                (
                    sys::VIR_DOMAIN_EVENT_ID_METADATA_CHANGE as i32,
                    std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            c_int,
                            *const c_char,
                            *mut c_void,
                        ),
                        Generic,
                    >(on_metadata),
                ),
                (
                    sys::VIR_DOMAIN_EVENT_ID_JOB_COMPLETED as i32,
                    std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            sys::virTypedParameterPtr,
                            c_int,
                            *mut c_void,
                        ),
                        Generic,
                    >(on_job_completed),
                ),
            ];
            for (id, cb) in domain_cbs {
                let opaque = boxed(sink);
                let r = sys::virConnectDomainEventRegisterAny(
                    conn.as_ptr(),
                    std::ptr::null_mut(),
                    id,
                    Some(cb),
                    opaque,
                    Some(free_sink),
                );
                if r < 0 {
                    // libvirt did not take the opaque: free it ourselves.
                    free_sink(opaque);
                    let err = super::VirtError::last("virConnectDomainEventRegisterAny");
                    if id == sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as i32 {
                        regs.deregister(conn);
                        return Err(err);
                    }
                    tracing::debug!(id, error = %err, "domain event not available");
                } else {
                    regs.domain.push(r);
                }
            }

            let net_cb = std::mem::transmute::<
                unsafe extern "C" fn(
                    sys::virConnectPtr,
                    sys::virNetworkPtr,
                    c_int,
                    c_int,
                    *mut c_void,
                ),
                GenericNet,
            >(on_network);
            let opaque = boxed(sink);
            let r = sys::virConnectNetworkEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_NETWORK_EVENT_ID_LIFECYCLE as c_int,
                Some(net_cb),
                opaque,
                Some(free_sink),
            );
            if r < 0 {
                free_sink(opaque);
                let err = super::VirtError::last("virConnectNetworkEventRegisterAny");
                tracing::debug!(error = %err, "network events not available");
            } else {
                regs.network.push(r);
            }

            let pool_cb = std::mem::transmute::<
                unsafe extern "C" fn(
                    sys::virConnectPtr,
                    sys::virStoragePoolPtr,
                    c_int,
                    c_int,
                    *mut c_void,
                ),
                GenericPool,
            >(on_pool);
            let opaque = boxed(sink);
            let r = sys::virConnectStoragePoolEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE as c_int,
                Some(pool_cb),
                opaque,
                Some(free_sink),
            );
            if r < 0 {
                free_sink(opaque);
                let err = super::VirtError::last("virConnectStoragePoolEventRegisterAny");
                tracing::debug!(error = %err, "storage pool events not available");
            } else {
                regs.pool.push(r);
            }
        }
        Ok(regs)
    }

    /// Deregisters everything (errors are only logged: on a dead connection the
    /// callbacks are gone anyway).
    pub fn deregister(&mut self, conn: &Connect) {
        // SAFETY: ids came from the matching register calls on this connection.
        unsafe {
            for id in self.domain.drain(..) {
                let _ = check(
                    "virConnectDomainEventDeregisterAny",
                    sys::virConnectDomainEventDeregisterAny(conn.as_ptr(), id),
                );
            }
            for id in self.network.drain(..) {
                let _ = check(
                    "virConnectNetworkEventDeregisterAny",
                    sys::virConnectNetworkEventDeregisterAny(conn.as_ptr(), id),
                );
            }
            for id in self.pool.drain(..) {
                let _ = check(
                    "virConnectStoragePoolEventDeregisterAny",
                    sys::virConnectStoragePoolEventDeregisterAny(conn.as_ptr(), id),
                );
            }
        }
    }
}

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
