//! Owned libvirt handles that release themselves without panicking.
//!
//! The `virt` crate's `Drop` impls panic when libvirt reports an error on free; a
//! desktop app must not abort because a connection died under it. These wrappers hold
//! the raw pointer and ignore the (logged) status of the free call.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{check, Result, VirtError};

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
        // SAFETY: the caller promises a valid pointer; virDomainRef adds the reference
        // that the new wrapper owns.
        unsafe {
            if ptr.is_null() || sys::virDomainRef(ptr) < 0 {
                return None;
            }
            Self::from_raw(ptr)
        }
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
        check("virDomainGetUUID", r)?;
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

    /// The domain's 16 raw UUID bytes (no RPC).
    pub fn raw_uuid(&self) -> Option<[u8; 16]> {
        let mut raw = [0u8; 16];
        // SAFETY: the buffer holds VIR_UUID_BUFLEN bytes.
        (unsafe { sys::virDomainGetUUID(self.as_ptr(), raw.as_mut_ptr()) } == 0).then_some(raw)
    }

    /// Every domain `virConnectListAllDomains` gives for `flags`, as owned references.
    pub fn list_all(conn: &Connect, flags: u32) -> Result<Vec<Self>> {
        let mut doms: *mut sys::virDomainPtr = std::ptr::null_mut();
        // SAFETY: libvirt fills an array of `n` owned references that we take one by
        // one, then frees the array itself with free().
        unsafe {
            let n = check(
                "virConnectListAllDomains",
                sys::virConnectListAllDomains(conn.as_ptr(), &mut doms, flags),
            )?;
            let out = (0..n as usize)
                .filter_map(|i| Self::from_raw(*doms.add(i)))
                .collect();
            libc::free(doms.cast());
            Ok(out)
        }
    }

    /// Runs a call that takes only the domain and returns a status.
    fn status(
        &self,
        op: &'static str,
        call: unsafe extern "C" fn(sys::virDomainPtr) -> i32,
    ) -> Result<i32> {
        // SAFETY: `call` is a libvirt function of one valid domain argument.
        check(op, unsafe { call(self.as_ptr()) })
    }

    /// Runs a call that takes the domain and flags and returns a status.
    fn status_flags(
        &self,
        op: &'static str,
        call: unsafe extern "C" fn(sys::virDomainPtr, u32) -> i32,
        flags: u32,
    ) -> Result<i32> {
        // SAFETY: `call` is a libvirt function of a valid domain and its flags.
        check(op, unsafe { call(self.as_ptr(), flags) })
    }

    /// Boots the domain (or restores its managed save image).
    pub fn create(&self) -> Result<()> {
        self.status("virDomainCreate", sys::virDomainCreate)
            .map(drop)
    }

    /// Asks the guest to shut down (ACPI).
    pub fn shutdown(&self) -> Result<()> {
        self.status("virDomainShutdown", sys::virDomainShutdown)
            .map(drop)
    }

    /// Asks the guest to reboot (ACPI).
    pub fn reboot(&self) -> Result<()> {
        self.status_flags("virDomainReboot", sys::virDomainReboot, 0)
            .map(drop)
    }

    /// Pulls the plug.
    pub fn destroy(&self) -> Result<()> {
        self.status("virDomainDestroy", sys::virDomainDestroy)
            .map(drop)
    }

    /// Presses the reset button.
    pub fn reset(&self) -> Result<()> {
        self.status_flags("virDomainReset", sys::virDomainReset, 0)
            .map(drop)
    }

    /// Pauses the vCPUs.
    pub fn suspend(&self) -> Result<()> {
        self.status("virDomainSuspend", sys::virDomainSuspend)
            .map(drop)
    }

    /// Resumes the vCPUs.
    pub fn resume(&self) -> Result<()> {
        self.status("virDomainResume", sys::virDomainResume)
            .map(drop)
    }

    /// Saves memory to the host's managed save image and stops.
    pub fn managed_save(&self) -> Result<()> {
        self.status_flags("virDomainManagedSave", sys::virDomainManagedSave, 0)
            .map(drop)
    }

    /// Turns autostart on or off.
    pub fn set_autostart(&self, on: bool) -> Result<()> {
        // SAFETY: valid domain.
        let r = unsafe { sys::virDomainSetAutostart(self.as_ptr(), i32::from(on)) };
        check("virDomainSetAutostart", r).map(drop)
    }

    /// Whether the domain starts with the host; transient domains (which have none)
    /// and errors read as off.
    pub fn autostart(&self) -> bool {
        let mut a = 0;
        // SAFETY: valid domain and out pointer.
        let r = unsafe { sys::virDomainGetAutostart(self.as_ptr(), &mut a) };
        r == 0 && a == 1
    }

    /// Renames the (inactive) domain.
    pub fn rename(&self, name: &str) -> Result<()> {
        let c = CString::new(name)?;
        // SAFETY: valid domain and C string.
        let r = unsafe { sys::virDomainRename(self.as_ptr(), c.as_ptr(), 0) };
        check("virDomainRename", r).map(drop)
    }

    /// True while the domain runs (errors read as false).
    pub fn is_active(&self) -> bool {
        // SAFETY: valid domain.
        unsafe { sys::virDomainIsActive(self.as_ptr()) == 1 }
    }

    /// True when the domain has a persistent definition.
    pub fn is_persistent(&self) -> Result<bool> {
        self.status("virDomainIsPersistent", sys::virDomainIsPersistent)
            .map(|r| r == 1)
    }

    /// True when a managed save image waits (errors read as false).
    pub fn has_managed_save(&self) -> bool {
        // SAFETY: valid domain.
        unsafe { sys::virDomainHasManagedSaveImage(self.as_ptr(), 0) == 1 }
    }

    /// The domain's XML with `flags` (`VIR_DOMAIN_XML_*`).
    pub fn xml_desc(&self, flags: u32) -> Result<String> {
        // SAFETY: valid domain; the string is ours to free.
        unsafe { take_c_string(sys::virDomainGetXMLDesc(self.as_ptr(), flags)) }
            .ok_or_else(|| VirtError::last("virDomainGetXMLDesc"))
    }

    /// One metadata field (`VIR_DOMAIN_METADATA_TITLE`, `..._DESCRIPTION`); libvirt's
    /// error when there is none (`VIR_ERR_NO_DOMAIN_METADATA`).
    pub fn metadata(&self, kind: u32) -> Result<String> {
        // SAFETY: valid domain; the returned string is ours to free.
        unsafe {
            take_c_string(sys::virDomainGetMetadata(
                self.as_ptr(),
                kind as c_int,
                std::ptr::null(),
                0,
            ))
        }
        .ok_or_else(|| VirtError::last("virDomainGetMetadata"))
    }

    /// `virDomainGetInfo`: (maximum memory KiB, current memory KiB, vCPUs).
    pub fn memory_and_vcpus(&self) -> Result<(u64, u64, u32)> {
        // SAFETY: a zeroed virDomainInfo is a valid out buffer (plain numbers).
        let mut info: sys::virDomainInfo = unsafe { std::mem::zeroed() };
        // SAFETY: valid domain and out pointer.
        let r = unsafe { sys::virDomainGetInfo(self.as_ptr(), &mut info) };
        check("virDomainGetInfo", r)?;
        Ok((
            info.maxMem as u64,
            info.memory as u64,
            u32::from(info.nrVirtCpu),
        ))
    }

    /// A connected socket to the domain's first graphics device
    /// (`virDomainOpenGraphicsFD` with `flags`).
    pub fn open_graphics_fd(&self, flags: u32) -> Result<OwnedFd> {
        // SAFETY: valid domain; a non-negative return is a new descriptor we own.
        let fd = unsafe { sys::virDomainOpenGraphicsFD(self.as_ptr(), 0, flags) };
        if fd < 0 {
            return Err(VirtError::last("virDomainOpenGraphicsFD"));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
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
    // SAFETY: the caller promises a NUL-terminated string from libvirt's allocator that
    // nothing else frees; it is copied before it goes.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: as above; freed once, here.
    unsafe { libc::free(p.cast()) };
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
