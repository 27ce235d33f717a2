//! libvirt event registrations that `virt::events` does not make yet, as safe
//! wrappers: the storage pool *refresh* event (`virsh pool-refresh`, or a pool's
//! volumes re-read by another client), which libvirt raises apart from the pool
//! lifecycle events.
//!
//! The callback runs on libvirt's event loop (GLib's default main context); its data
//! is boxed and freed by libvirt's `freecb` once the callback is deregistered.

use std::ffi::{c_int, c_void, CStr};
use std::sync::Arc;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{Result, VirtError};

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
    // SAFETY: `opaque` is the boxed sink registered below, alive until `free_sink`;
    // the pool pointer is valid for the duration of the callback.
    let sink = &*(opaque as *const PoolRefreshSink);
    let name_ptr = sys::virStoragePoolGetName(pool);
    if name_ptr.is_null() {
        return;
    }
    let name = CStr::from_ptr(name_ptr).to_string_lossy().into_owned();
    // Never unwind into libvirt.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(name)));
}

unsafe extern "C" fn free_sink(opaque: *mut c_void) {
    // SAFETY: allocated by Box::into_raw in `register`; libvirt calls this once.
    drop(Box::from_raw(opaque as *mut PoolRefreshSink));
}

impl PoolRefreshEvents {
    /// Registers `sink` for every pool's refresh event on `conn`. Drivers without
    /// storage events refuse; the caller decides whether that matters.
    pub fn register(conn: &Connect, sink: PoolRefreshSink) -> Result<Self> {
        let opaque = Box::into_raw(Box::new(sink)) as *mut c_void;
        // SAFETY: the refresh callback has exactly libvirt's generic pool callback
        // signature (connection, pool, opaque), so no cast is needed; libvirt owns
        // `opaque` from here and frees it through `free_sink`.
        let id = unsafe {
            sys::virConnectStoragePoolEventRegisterAny(
                conn.as_ptr(),
                std::ptr::null_mut(),
                sys::VIR_STORAGE_POOL_EVENT_ID_REFRESH as c_int,
                Some(on_refresh),
                opaque,
                Some(free_sink),
            )
        };
        if id < 0 {
            let err = VirtError::last("virConnectStoragePoolEventRegisterAny");
            // SAFETY: libvirt did not take the data: it is still ours to free.
            unsafe { free_sink(opaque) };
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
