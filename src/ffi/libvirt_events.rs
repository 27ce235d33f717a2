//! libvirt event registrations as safe, typed wrappers: domain, network and storage
//! pool lifecycle events turned into [`VirtEvent`] values, and the storage pool
//! *refresh* event (`virsh pool-refresh`, or a pool's volumes re-read by another
//! client), which libvirt raises apart from the pool lifecycle events.
//!
//! Each registration owns a boxed [`EventSink`], handed to libvirt as the callback's
//! data and freed by libvirt's `freecb` when the callback is deregistered, so no
//! callback can see freed data. libvirt's register calls take one generic callback type
//! per object kind; every event id has its own C signature, so `DomainEvent` pairs
//! each id with the callback written for exactly that signature and casts it in one
//! place (`DomainEvent::callback`), as libvirt's own `VIR_DOMAIN_EVENT_CALLBACK` macro
//! does in C.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Arc;
use std::time::Instant;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{check, Result, VirtError};
use crate::virt::events::{DomainEventKind, EventSink, LifecycleEvent, MetadataKind, VirtEvent};
use crate::virt::handles::format_uuid;

/// Runs `sink` on `event`, never unwinding into libvirt.
fn deliver(sink: &EventSink, event: VirtEvent) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(event)));
}

/// The sink behind a callback's data pointer.
///
/// # Safety
/// `opaque` must be a pointer made by [`boxed`] and not yet freed by [`free_sink`].
unsafe fn sink<'a>(opaque: *mut c_void) -> &'a EventSink {
    // SAFETY: as the caller promises, a live Box<EventSink>.
    unsafe { &*(opaque as *const EventSink) }
}

fn boxed(sink: &EventSink) -> *mut c_void {
    Box::into_raw(Box::new(sink.clone())) as *mut c_void
}

unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    // SAFETY: made by `boxed`; libvirt calls this once, after the last callback.
    drop(unsafe { Box::from_raw(opaque as *mut EventSink) });
}

/// Copies a string libvirt lends for the callback (null gives `None`).
///
/// # Safety
/// `p` must be null or a valid NUL-terminated string.
unsafe fn opt_str(p: *const c_char) -> Option<String> {
    // SAFETY: as the caller promises.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Reads the domain's UUID and name and delivers a domain event.
///
/// # Safety
/// `dom` must be null or the domain libvirt passed to the callback; `opaque` as for
/// [`sink`].
unsafe fn emit_domain(dom: sys::virDomainPtr, opaque: *mut c_void, kind: DomainEventKind) {
    let at = Instant::now();
    let mut raw = [0u8; 16];
    // SAFETY: libvirt's domain is valid during the callback; the buffer holds 16 bytes.
    if dom.is_null() || unsafe { sys::virDomainGetUUID(dom, raw.as_mut_ptr()) } < 0 {
        return;
    }
    // SAFETY: the name belongs to the domain object, valid during the callback.
    let name = unsafe { opt_str(sys::virDomainGetName(dom)) }.unwrap_or_default();
    let ev = VirtEvent::Domain {
        uuid: format_uuid(&raw),
        name,
        kind,
        at,
    };
    // SAFETY: `opaque` is the registration's live sink.
    deliver(unsafe { sink(opaque) }, ev);
}

// The callbacks, one per event id, each with libvirt's signature for that id. libvirt
// passes objects and strings that are valid for the duration of the call and the data
// pointer registered with it (a live sink until `free_sink`).

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
    // SAFETY: see above the callbacks.
    unsafe { emit_domain(dom, opaque, kind) };
    0
}

unsafe extern "C" fn on_reboot(_c: sys::virConnectPtr, dom: sys::virDomainPtr, o: *mut c_void) {
    // SAFETY: see above the callbacks.
    unsafe { emit_domain(dom, o, DomainEventKind::Reboot) };
}

unsafe extern "C" fn on_device_added(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    o: *mut c_void,
) {
    // SAFETY: see above the callbacks.
    unsafe {
        let alias = opt_str(alias).unwrap_or_default();
        emit_domain(dom, o, DomainEventKind::DeviceAdded { alias });
    }
}

unsafe extern "C" fn on_device_removed(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    alias: *const c_char,
    o: *mut c_void,
) {
    // SAFETY: see above the callbacks.
    unsafe {
        let alias = opt_str(alias).unwrap_or_default();
        emit_domain(dom, o, DomainEventKind::DeviceRemoved { alias });
    }
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
    // SAFETY: see above the callbacks.
    unsafe {
        let ns_uri = opt_str(ns_uri);
        emit_domain(dom, o, DomainEventKind::MetadataChanged { kind, ns_uri });
    }
}

unsafe extern "C" fn on_job_completed(
    _c: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    _params: sys::virTypedParameterPtr,
    _nparams: c_int,
    o: *mut c_void,
) {
    // SAFETY: see above the callbacks.
    unsafe { emit_domain(dom, o, DomainEventKind::JobCompleted) };
}

unsafe extern "C" fn on_network(
    _c: sys::virConnectPtr,
    net: sys::virNetworkPtr,
    event: c_int,
    detail: c_int,
    o: *mut c_void,
) {
    // SAFETY: see above the callbacks.
    let (name, sink) = unsafe { (opt_str(sys::virNetworkGetName(net)), sink(o)) };
    let name = name.unwrap_or_default();
    deliver(
        sink,
        VirtEvent::Network {
            name,
            event,
            detail,
        },
    );
}

unsafe extern "C" fn on_pool(
    _c: sys::virConnectPtr,
    pool: sys::virStoragePoolPtr,
    event: c_int,
    detail: c_int,
    o: *mut c_void,
) {
    // SAFETY: see above the callbacks.
    let (name, sink) = unsafe { (opt_str(sys::virStoragePoolGetName(pool)), sink(o)) };
    let name = name.unwrap_or_default();
    deliver(
        sink,
        VirtEvent::StoragePool {
            name,
            event,
            detail,
        },
    );
}

/// The domain events Vireo follows, each with its id and typed callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DomainEvent {
    Lifecycle,
    Reboot,
    DeviceAdded,
    DeviceRemoved,
    MetadataChange,
    JobCompleted,
}

impl DomainEvent {
    const ALL: [DomainEvent; 6] = [
        Self::Lifecycle,
        Self::Reboot,
        Self::DeviceAdded,
        Self::DeviceRemoved,
        Self::MetadataChange,
        Self::JobCompleted,
    ];

    /// libvirt's `VIR_DOMAIN_EVENT_ID_*`.
    fn id(self) -> c_int {
        (match self {
            Self::Lifecycle => sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            Self::Reboot => sys::VIR_DOMAIN_EVENT_ID_REBOOT,
            Self::DeviceAdded => sys::VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
            Self::DeviceRemoved => sys::VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
            Self::MetadataChange => sys::VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
            Self::JobCompleted => sys::VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
        }) as c_int
    }

    /// The callback written for this id's signature, as the generic type
    /// `virConnectDomainEventRegisterAny` takes.
    fn callback(self) -> sys::virConnectDomainEventGenericCallback {
        let typed: *const () = match self {
            Self::Lifecycle => on_lifecycle as *const (),
            Self::Reboot => on_reboot as *const (),
            Self::DeviceAdded => on_device_added as *const (),
            Self::DeviceRemoved => on_device_removed as *const (),
            Self::MetadataChange => on_metadata as *const (),
            Self::JobCompleted => on_job_completed as *const (),
        };
        // SAFETY: libvirt calls the callback registered under an id with that id's
        // signature, which is the one the matched function has; the generic type only
        // carries the pointer through the register call (C casts it the same way).
        Some(unsafe {
            std::mem::transmute::<
                *const (),
                unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void),
            >(typed)
        })
    }
}

/// The callbacks registered on one connection; deregister them before closing it.
#[derive(Debug, Default)]
pub struct EventRegistrations {
    domain: Vec<c_int>,
    network: Vec<c_int>,
    pool: Vec<c_int>,
}

impl EventRegistrations {
    /// Registers every event Vireo follows. Network and pool events are optional (a
    /// driver without networks refuses them); domain lifecycle events are not.
    pub fn register(conn: &Connect, sink: &EventSink) -> Result<Self> {
        let mut regs = EventRegistrations::default();
        for event in DomainEvent::ALL {
            let opaque = boxed(sink);
            // SAFETY: valid connection; the callback matches the id (see
            // `DomainEvent::callback`); libvirt owns `opaque` on success and frees it
            // through `free_sink`.
            let r = unsafe {
                sys::virConnectDomainEventRegisterAny(
                    conn.as_ptr(),
                    std::ptr::null_mut(),
                    event.id(),
                    event.callback(),
                    opaque,
                    Some(free_sink),
                )
            };
            if r < 0 {
                let err = VirtError::last("virConnectDomainEventRegisterAny");
                // SAFETY: libvirt did not take the data: it is still ours to free.
                unsafe { free_sink(opaque) };
                if event == DomainEvent::Lifecycle {
                    regs.deregister(conn);
                    return Err(err);
                }
                tracing::debug!(?event, error = %err, "domain event not available");
            } else {
                regs.domain.push(r);
            }
        }

        let opaque = boxed(sink);
        // SAFETY: valid connection; `on_network` has exactly the generic network
        // callback's signature plus the lifecycle arguments, which is what libvirt
        // calls for VIR_NETWORK_EVENT_ID_LIFECYCLE; `opaque` as above.
        let r = unsafe {
            sys::virConnectNetworkEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_NETWORK_EVENT_ID_LIFECYCLE as c_int,
                Some(std::mem::transmute::<
                    *const (),
                    unsafe extern "C" fn(sys::virConnectPtr, sys::virNetworkPtr, *mut c_void),
                >(on_network as *const ())),
                opaque,
                Some(free_sink),
            )
        };
        if r < 0 {
            let err = VirtError::last("virConnectNetworkEventRegisterAny");
            // SAFETY: libvirt did not take the data.
            unsafe { free_sink(opaque) };
            tracing::debug!(error = %err, "network events not available");
        } else {
            regs.network.push(r);
        }

        let opaque = boxed(sink);
        // SAFETY: as for networks, with the pool lifecycle signature.
        let r = unsafe {
            sys::virConnectStoragePoolEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE as c_int,
                Some(std::mem::transmute::<
                    *const (),
                    unsafe extern "C" fn(sys::virConnectPtr, sys::virStoragePoolPtr, *mut c_void),
                >(on_pool as *const ())),
                opaque,
                Some(free_sink),
            )
        };
        if r < 0 {
            let err = VirtError::last("virConnectStoragePoolEventRegisterAny");
            // SAFETY: libvirt did not take the data.
            unsafe { free_sink(opaque) };
            tracing::debug!(error = %err, "storage pool events not available");
        } else {
            regs.pool.push(r);
        }
        Ok(regs)
    }

    /// Deregisters everything (errors are only logged: on a dead connection the
    /// callbacks are gone anyway); libvirt then frees each sink.
    pub fn deregister(&mut self, conn: &Connect) {
        for id in self.domain.drain(..) {
            // SAFETY: the id came from the matching register call on this connection.
            let r = unsafe { sys::virConnectDomainEventDeregisterAny(conn.as_ptr(), id) };
            let _ = check("virConnectDomainEventDeregisterAny", r);
        }
        for id in self.network.drain(..) {
            // SAFETY: as above.
            let r = unsafe { sys::virConnectNetworkEventDeregisterAny(conn.as_ptr(), id) };
            let _ = check("virConnectNetworkEventDeregisterAny", r);
        }
        for id in self.pool.drain(..) {
            // SAFETY: as above.
            let r = unsafe { sys::virConnectStoragePoolEventDeregisterAny(conn.as_ptr(), id) };
            let _ = check("virConnectStoragePoolEventDeregisterAny", r);
        }
    }
}

/// Called with the name of the pool that was refreshed.
pub type PoolRefreshSink = Arc<dyn Fn(String) + Send + Sync>;

/// A registered pool refresh callback; give it back with [`Self::deregister`] before
/// the connection closes.
#[derive(Debug)]
pub struct PoolRefreshEvents {
    id: c_int,
}

unsafe extern "C" fn on_refresh(
    _conn: sys::virConnectPtr,
    pool: sys::virStoragePoolPtr,
    opaque: *mut c_void,
) {
    // SAFETY: `opaque` is the boxed sink registered below, alive until
    // `free_refresh_sink`; the pool and its name are valid during the callback.
    let (sink, name) = unsafe {
        (
            &*(opaque as *const PoolRefreshSink),
            opt_str(sys::virStoragePoolGetName(pool)),
        )
    };
    let Some(name) = name else { return };
    // Never unwind into libvirt.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(name)));
}

unsafe extern "C" fn free_refresh_sink(opaque: *mut c_void) {
    // SAFETY: allocated by Box::into_raw in `register`; libvirt calls this once.
    drop(unsafe { Box::from_raw(opaque as *mut PoolRefreshSink) });
}

impl PoolRefreshEvents {
    /// Registers `sink` for every pool's refresh event on `conn`. Drivers without
    /// storage events refuse; the caller decides whether that matters.
    pub fn register(conn: &Connect, sink: PoolRefreshSink) -> Result<Self> {
        let opaque = Box::into_raw(Box::new(sink)) as *mut c_void;
        // SAFETY: the refresh callback has exactly libvirt's generic pool callback
        // signature (connection, pool, opaque), so no cast is needed; libvirt owns
        // `opaque` from here and frees it through `free_refresh_sink`.
        let id = unsafe {
            sys::virConnectStoragePoolEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_STORAGE_POOL_EVENT_ID_REFRESH as c_int,
                Some(on_refresh),
                opaque,
                Some(free_refresh_sink),
            )
        };
        if id < 0 {
            let err = VirtError::last("virConnectStoragePoolEventRegisterAny");
            // SAFETY: libvirt did not take the data: it is still ours to free.
            unsafe { free_refresh_sink(opaque) };
            return Err(err);
        }
        Ok(PoolRefreshEvents { id })
    }

    /// Removes the callback (libvirt then frees its data). Errors are only logged: on
    /// a dead connection the callback is gone anyway.
    pub fn deregister(self, conn: &Connect) {
        // SAFETY: the id came from the register call on this connection.
        let r = unsafe { sys::virConnectStoragePoolEventDeregisterAny(conn.as_ptr(), self.id) };
        if r < 0 {
            let e = VirtError::last("virConnectStoragePoolEventDeregisterAny");
            tracing::debug!(error = %e, "could not deregister the pool refresh event");
        }
    }
}
