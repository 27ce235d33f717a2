//! Domain snapshots (`virDomainSnapshot*`), the managed save image and a few
//! connection-wide facts the snapshot, clone and migration code asks for.

use std::ffi::{c_char, CStr, CString};
use std::ptr::{self, NonNull};

use virt::sys;

use crate::virt::error::{check, Result, VirtError};
use crate::virt::handles::{take_c_string, DomainRef};

/// An owned reference to a `virDomainSnapshot`.
pub struct SnapshotRef(NonNull<sys::virDomainSnapshot>);

// SAFETY: libvirt objects are reference counted atomically and documented thread safe.
unsafe impl Send for SnapshotRef {}

impl SnapshotRef {
    fn owned(p: sys::virDomainSnapshotPtr, op: &'static str) -> Result<Self> {
        NonNull::new(p)
            .map(SnapshotRef)
            .ok_or_else(|| VirtError::last(op))
    }

    /// Every snapshot of `d` (one RPC), in libvirt's order.
    pub fn list_all(d: &DomainRef) -> Result<Vec<SnapshotRef>> {
        let mut snaps: *mut sys::virDomainSnapshotPtr = ptr::null_mut();
        // SAFETY: libvirt fills an array of owned references; we take each of them and
        // free the array itself with free(), as the API documents.
        unsafe {
            let n = check(
                "virDomainListAllSnapshots",
                sys::virDomainListAllSnapshots(d.as_ptr(), &mut snaps, 0),
            )?;
            let mut out = Vec::with_capacity(n as usize);
            for i in 0..n as usize {
                if let Some(s) = NonNull::new(*snaps.add(i)) {
                    out.push(SnapshotRef(s));
                }
            }
            libc::free(snaps.cast());
            Ok(out)
        }
    }

    /// The snapshot of `d` named `name`.
    pub fn lookup(d: &DomainRef, name: &str) -> Result<Self> {
        let c = CString::new(name)?;
        // SAFETY: valid domain and C string; the result is an owned reference or null.
        let p = unsafe { sys::virDomainSnapshotLookupByName(d.as_ptr(), c.as_ptr(), 0) };
        Self::owned(p, "virDomainSnapshotLookupByName")
    }

    /// Creates a snapshot of `d` from `xml` (`<domainsnapshot>`) with `flags`
    /// (`VIR_DOMAIN_SNAPSHOT_CREATE_*`). Blocks for as long as libvirt works.
    pub fn create(d: &DomainRef, xml: &str, flags: u32) -> Result<Self> {
        let c = CString::new(xml)?;
        // SAFETY: valid domain and C string; the result is an owned reference or null.
        let p = unsafe { sys::virDomainSnapshotCreateXML(d.as_ptr(), c.as_ptr(), flags) };
        Self::owned(p, "virDomainSnapshotCreateXML")
    }

    /// The snapshot's name (no RPC).
    pub fn name(&self) -> Result<String> {
        // SAFETY: the returned string belongs to the snapshot object, copied at once.
        unsafe {
            let p: *const c_char = sys::virDomainSnapshotGetName(self.0.as_ptr());
            if p.is_null() {
                return Err(VirtError::last("virDomainSnapshotGetName"));
            }
            Ok(CStr::from_ptr(p).to_string_lossy().into_owned())
        }
    }

    /// The `<domainsnapshot>` XML; `secure` includes secrets of the embedded domain
    /// (needed to redefine the snapshot without losing them).
    pub fn xml(&self, secure: bool) -> Result<String> {
        let flags = if secure {
            sys::VIR_DOMAIN_SNAPSHOT_XML_SECURE
        } else {
            0
        };
        // SAFETY: valid snapshot; the string is ours to free (take_c_string does).
        unsafe { take_c_string(sys::virDomainSnapshotGetXMLDesc(self.0.as_ptr(), flags)) }
            .ok_or_else(|| VirtError::last("virDomainSnapshotGetXMLDesc"))
    }

    /// True when this is the domain's current snapshot.
    pub fn is_current(&self) -> Result<bool> {
        // SAFETY: valid snapshot.
        let r = unsafe { sys::virDomainSnapshotIsCurrent(self.0.as_ptr(), 0) };
        check("virDomainSnapshotIsCurrent", r).map(|r| r == 1)
    }

    /// Reverts the domain to this snapshot (`VIR_DOMAIN_SNAPSHOT_REVERT_*` flags).
    pub fn revert(&self, flags: u32) -> Result<()> {
        // SAFETY: valid snapshot.
        let r = unsafe { sys::virDomainRevertToSnapshot(self.0.as_ptr(), flags) };
        check("virDomainRevertToSnapshot", r).map(drop)
    }

    /// Deletes this snapshot (`VIR_DOMAIN_SNAPSHOT_DELETE_*` flags).
    pub fn delete(&self, flags: u32) -> Result<()> {
        // SAFETY: valid snapshot.
        let r = unsafe { sys::virDomainSnapshotDelete(self.0.as_ptr(), flags) };
        check("virDomainSnapshotDelete", r).map(drop)
    }
}

impl Drop for SnapshotRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference; a failing free is only logged by libvirt.
        unsafe {
            sys::virDomainSnapshotFree(self.0.as_ptr());
        }
    }
}

/// Removes the domain's managed save image (reverting a domain with one to a snapshot
/// without memory would later resume the saved memory over other disks).
pub fn managed_save_remove(d: &DomainRef) -> Result<()> {
    // SAFETY: valid domain.
    let r = unsafe { sys::virDomainManagedSaveRemove(d.as_ptr(), 0) };
    check("virDomainManagedSaveRemove", r).map(drop)
}

/// True when the domain has a managed save image.
pub fn has_managed_save(d: &DomainRef) -> Result<bool> {
    // SAFETY: valid domain.
    let r = unsafe { sys::virDomainHasManagedSaveImage(d.as_ptr(), 0) };
    check("virDomainHasManagedSaveImage", r).map(|r| r == 1)
}
