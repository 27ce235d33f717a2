//! Owned libvirt handles that release themselves without panicking.
//!
//! The `virt` crate's `Drop` impls panic when libvirt reports an error on free; a
//! desktop app must not abort because a connection died under it. These wrappers hold
//! the raw pointer and ignore the (logged) status of the free call.

use std::ffi::{c_char, CStr, CString};
use std::fmt::Write;
use std::ptr::NonNull;

use virt::connect::Connect;
use virt::sys;

use super::error::{Result, VirtError};

/// An owned reference to a `virDomain`.
pub struct DomainRef(NonNull<sys::virDomain>);

// SAFETY: libvirt objects are reference counted with atomic counts and are
// documented thread safe.
unsafe impl Send for DomainRef {}

impl DomainRef {
    /// Takes ownership of one reference; `None` for a null pointer.
    ///
    /// # Safety
    /// `ptr` must be null or a domain reference the caller owns.
    pub unsafe fn from_raw(ptr: sys::virDomainPtr) -> Option<Self> {
        NonNull::new(ptr).map(DomainRef)
    }

    /// Takes a new reference on a borrowed pointer (e.g. inside an event callback).
    ///
    /// # Safety
    /// `ptr` must be a valid domain pointer.
    pub unsafe fn from_borrowed(ptr: sys::virDomainPtr) -> Option<Self> {
        if ptr.is_null() || sys::virDomainRef(ptr) < 0 {
            return None;
        }
        Self::from_raw(ptr)
    }

    /// Looks a domain up by UUID string.
    pub fn lookup_uuid(conn: &Connect, uuid: &str) -> Result<Self> {
        let c = CString::new(uuid)?;
        // SAFETY: valid connection and C string; the result is an owned reference.
        unsafe {
            let p = sys::virDomainLookupByUUIDString(conn.as_ptr(), c.as_ptr());
            Self::from_raw(p).ok_or_else(|| VirtError::last("virDomainLookupByUUIDString"))
        }
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> sys::virDomainPtr {
        self.0.as_ptr()
    }

    /// The domain's UUID as the usual 36-character string (no RPC).
    pub fn uuid_string(&self) -> Result<String> {
        let mut raw = [0u8; 16];
        // SAFETY: the buffer holds VIR_UUID_BUFLEN bytes.
        let r = unsafe { sys::virDomainGetUUID(self.as_ptr(), raw.as_mut_ptr()) };
        super::error::check("virDomainGetUUID", r)?;
        Ok(format_uuid(&raw))
    }

    /// The domain's name (no RPC).
    pub fn name(&self) -> Result<String> {
        // SAFETY: the returned string is owned by the domain object.
        unsafe {
            let p = sys::virDomainGetName(self.as_ptr());
            if p.is_null() {
                return Err(VirtError::last("virDomainGetName"));
            }
            Ok(CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }

    /// The domain's id while running, `None` when inactive (no RPC).
    pub fn id(&self) -> Option<u32> {
        // SAFETY: valid domain pointer.
        let id = unsafe { sys::virDomainGetID(self.as_ptr()) };
        (id != u32::MAX).then_some(id)
    }
}

impl Drop for DomainRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe {
            sys::virDomainFree(self.as_ptr());
        }
    }
}

/// Formats 16 raw bytes as a lowercase 8-4-4-4-12 UUID string.
pub fn format_uuid(raw: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in raw.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Releases a `Connect` reference without the crate's panicking `Drop`.
pub fn release_connect(conn: Connect) {
    // SAFETY: the wrapper owns one reference which we give back here.
    unsafe {
        sys::virConnectClose(conn.as_ptr());
    }
    std::mem::forget(conn);
}

/// A second owned `Connect` on the same connection (one more reference).
pub fn clone_connect(conn: &Connect) -> Option<Connect> {
    // SAFETY: valid connection pointer; virConnectRef adds the reference the new
    // wrapper owns.
    unsafe {
        if sys::virConnectRef(conn.as_ptr()) < 0 {
            return None;
        }
        Some(Connect::from_ptr(conn.as_ptr()))
    }
}

/// Takes a libvirt-allocated C string, copies it and frees it.
///
/// # Safety
/// `p` must be null or a string allocated by libvirt that the caller owns.
pub unsafe fn take_c_string(p: *mut c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let s = CStr::from_ptr(p).to_string_lossy().into_owned();
    libc::free(p.cast());
    Some(s)
}

/// An owned reference to a storage volume.
pub struct VolRef(NonNull<sys::virStorageVol>);

// SAFETY: see DomainRef.
unsafe impl Send for VolRef {}

impl VolRef {
    /// Takes ownership of a volume reference.
    ///
    /// # Safety
    /// `ptr` must be null or an owned volume reference.
    pub unsafe fn from_raw(ptr: sys::virStorageVolPtr) -> Option<Self> {
        NonNull::new(ptr).map(VolRef)
    }

    /// Looks a volume up by its path on the host.
    pub fn lookup_path(conn: &Connect, path: &str) -> Result<Self> {
        let c = CString::new(path)?;
        // SAFETY: valid connection and string; owned result.
        unsafe {
            let p = sys::virStorageVolLookupByPath(conn.as_ptr(), c.as_ptr());
            NonNull::new(p)
                .map(VolRef)
                .ok_or_else(|| VirtError::last("virStorageVolLookupByPath"))
        }
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> sys::virStorageVolPtr {
        self.0.as_ptr()
    }
}

impl Drop for VolRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe {
            sys::virStorageVolFree(self.as_ptr());
        }
    }
}

/// An owned reference to a storage pool.
pub struct PoolRef(NonNull<sys::virStoragePool>);

// SAFETY: see DomainRef.
unsafe impl Send for PoolRef {}

impl PoolRef {
    /// Takes ownership of a pool reference.
    ///
    /// # Safety
    /// `ptr` must be null or an owned pool reference.
    pub unsafe fn from_raw(ptr: sys::virStoragePoolPtr) -> Option<Self> {
        NonNull::new(ptr).map(PoolRef)
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> sys::virStoragePoolPtr {
        self.0.as_ptr()
    }
}

impl Drop for PoolRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe {
            sys::virStoragePoolFree(self.as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_format_matches_libvirt() {
        let raw = [
            0x6f, 0xf3, 0xba, 0xd7, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
            0xaa, 0xbb,
        ];
        assert_eq!(format_uuid(&raw), "6ff3bad7-0011-2233-4455-66778899aabb");
    }
}
