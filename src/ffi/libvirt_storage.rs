//! Storage pools and volumes: look-ups, facts, creation (also as a copy of another
//! volume, done by the host), deletion, and volume contents through streams.

use std::ffi::{CStr, CString};

use virt::connect::Connect;
use virt::sys;

use super::libvirt_stream::StreamRef;
use crate::virt::error::{check, Result, VirtError};
use crate::virt::handles::{take_c_string, PoolRef, VolRef};

/// A volume's size figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VolInfo {
    /// `virStorageVolType`.
    pub kind: i32,
    /// Size the guest sees, in bytes.
    pub capacity: u64,
    /// Bytes the host has allocated for it.
    pub allocation: u64,
}

/// The volume's size figures (one RPC; the host re-reads the file).
pub fn vol_info(v: &VolRef) -> Result<VolInfo> {
    // SAFETY: valid volume; the struct is plain data that libvirt fills.
    unsafe {
        let mut vi: sys::virStorageVolInfo = std::mem::zeroed();
        check(
            "virStorageVolGetInfo",
            sys::virStorageVolGetInfo(v.as_ptr(), &mut vi),
        )?;
        Ok(VolInfo {
            kind: vi.type_ as i32,
            capacity: vi.capacity as u64,
            allocation: vi.allocation as u64,
        })
    }
}

/// The volume's path on its host.
pub fn vol_path(v: &VolRef) -> Result<String> {
    // SAFETY: valid volume; the string is ours to free.
    unsafe { take_c_string(sys::virStorageVolGetPath(v.as_ptr())) }
        .ok_or_else(|| VirtError::last("virStorageVolGetPath"))
}

/// The volume's name in its pool (no RPC).
pub fn vol_name(v: &VolRef) -> Result<String> {
    // SAFETY: the string belongs to the volume object and is copied at once.
    unsafe {
        let p = sys::virStorageVolGetName(v.as_ptr());
        if p.is_null() {
            return Err(VirtError::last("virStorageVolGetName"));
        }
        Ok(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// The volume's XML.
pub fn vol_xml(v: &VolRef) -> Result<String> {
    // SAFETY: valid volume; the string is ours to free.
    unsafe { take_c_string(sys::virStorageVolGetXMLDesc(v.as_ptr(), 0)) }
        .ok_or_else(|| VirtError::last("virStorageVolGetXMLDesc"))
}

/// Deletes the volume's storage.
pub fn vol_delete(v: &VolRef) -> Result<()> {
    // SAFETY: valid volume.
    let r = unsafe { sys::virStorageVolDelete(v.as_ptr(), 0) };
    check("virStorageVolDelete", r).map(drop)
}

/// The volume named `name` in `pool`.
pub fn vol_by_name(pool: &PoolRef, name: &str) -> Result<VolRef> {
    let c = CString::new(name)?;
    // SAFETY: valid pool and string; owned result or null.
    unsafe { VolRef::from_raw(sys::virStorageVolLookupByName(pool.as_ptr(), c.as_ptr())) }
        .ok_or_else(|| VirtError::last("virStorageVolLookupByName"))
}

/// Creates a volume in `pool` from `xml`.
pub fn vol_create(pool: &PoolRef, xml: &str) -> Result<VolRef> {
    let c = CString::new(xml)?;
    // SAFETY: valid pool and string; owned result or null.
    unsafe { VolRef::from_raw(sys::virStorageVolCreateXML(pool.as_ptr(), c.as_ptr(), 0)) }
        .ok_or_else(|| VirtError::last("virStorageVolCreateXML"))
}

/// Creates a volume in `pool` from `xml` holding a copy of `source` (the host copies;
/// blocks until it is done). While it runs, libvirt refuses to delete the new volume.
pub fn vol_create_from(pool: &PoolRef, xml: &str, source: &VolRef) -> Result<VolRef> {
    let c = CString::new(xml)?;
    // SAFETY: valid pool, volume and string; owned result or null.
    unsafe {
        VolRef::from_raw(sys::virStorageVolCreateXMLFrom(
            pool.as_ptr(),
            c.as_ptr(),
            source.as_ptr(),
            0,
        ))
    }
    .ok_or_else(|| VirtError::last("virStorageVolCreateXMLFrom"))
}

/// Starts sending the volume's contents into `st` (holes kept when `sparse`).
pub fn vol_download(v: &VolRef, st: &StreamRef, sparse: bool) -> Result<()> {
    let flags = if sparse {
        sys::VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM
    } else {
        0
    };
    // SAFETY: valid volume and stream; offset 0 and length 0 mean the whole volume.
    let r = unsafe { sys::virStorageVolDownload(v.as_ptr(), st.as_ptr(), 0, 0, flags) };
    check("virStorageVolDownload", r).map(drop)
}

/// Starts writing the volume's contents from `st` (holes kept when `sparse`).
pub fn vol_upload(v: &VolRef, st: &StreamRef, sparse: bool) -> Result<()> {
    let flags = if sparse {
        sys::VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM
    } else {
        0
    };
    // SAFETY: valid volume and stream; offset 0 and length 0 mean the whole volume.
    let r = unsafe { sys::virStorageVolUpload(v.as_ptr(), st.as_ptr(), 0, 0, flags) };
    check("virStorageVolUpload", r).map(drop)
}

/// The pool holding `v`.
pub fn pool_of_vol(v: &VolRef) -> Result<PoolRef> {
    // SAFETY: valid volume; owned result or null.
    unsafe { PoolRef::from_raw(sys::virStoragePoolLookupByVolume(v.as_ptr())) }
        .ok_or_else(|| VirtError::last("virStoragePoolLookupByVolume"))
}

/// The pool's name (no RPC).
pub fn pool_name(p: &PoolRef) -> Result<String> {
    // SAFETY: the string belongs to the pool object and is copied at once.
    unsafe {
        let n = sys::virStoragePoolGetName(p.as_ptr());
        if n.is_null() {
            return Err(VirtError::last("virStoragePoolGetName"));
        }
        Ok(CStr::from_ptr(n).to_string_lossy().into_owned())
    }
}

/// The pool named `name`.
pub fn pool_by_name(conn: &Connect, name: &str) -> Result<PoolRef> {
    let c = CString::new(name)?;
    // SAFETY: valid connection and string; owned result or null.
    unsafe { PoolRef::from_raw(sys::virStoragePoolLookupByName(conn.as_ptr(), c.as_ptr())) }
        .ok_or_else(|| VirtError::last("virStoragePoolLookupByName"))
}

/// The pool whose target is the directory `path`.
pub fn pool_by_target_path(conn: &Connect, path: &str) -> Result<PoolRef> {
    let c = CString::new(path)?;
    // SAFETY: valid connection and string; owned result or null.
    unsafe {
        PoolRef::from_raw(sys::virStoragePoolLookupByTargetPath(
            conn.as_ptr(),
            c.as_ptr(),
        ))
    }
    .ok_or_else(|| VirtError::last("virStoragePoolLookupByTargetPath"))
}

/// Creates and starts a transient pool from `xml` (gone once destroyed); `build`
/// makes its directory first when missing.
pub fn pool_create_transient(conn: &Connect, xml: &str, build: bool) -> Result<PoolRef> {
    let c = CString::new(xml)?;
    let flags = if build {
        sys::VIR_STORAGE_POOL_CREATE_WITH_BUILD
    } else {
        0
    };
    // SAFETY: valid connection and string; owned result or null.
    unsafe {
        PoolRef::from_raw(sys::virStoragePoolCreateXML(
            conn.as_ptr(),
            c.as_ptr(),
            flags,
        ))
    }
    .ok_or_else(|| VirtError::last("virStoragePoolCreateXML"))
}

/// Stops a pool (a transient one disappears; its files stay).
pub fn pool_destroy(p: &PoolRef) -> Result<()> {
    // SAFETY: valid pool.
    let r = unsafe { sys::virStoragePoolDestroy(p.as_ptr()) };
    check("virStoragePoolDestroy", r).map(drop)
}

/// Re-reads the pool's volumes from its storage.
pub fn pool_refresh(p: &PoolRef) -> Result<()> {
    // SAFETY: valid pool.
    let r = unsafe { sys::virStoragePoolRefresh(p.as_ptr(), 0) };
    check("virStoragePoolRefresh", r).map(drop)
}

/// The names of the volumes of `p` (one RPC).
pub fn pool_volume_names(p: &PoolRef) -> Result<Vec<String>> {
    let mut vols: *mut sys::virStorageVolPtr = std::ptr::null_mut();
    // SAFETY: libvirt fills an array of owned references: each one is taken by a
    // VolRef (freed on drop) and the array itself is freed with free().
    unsafe {
        let n = check(
            "virStoragePoolListAllVolumes",
            sys::virStoragePoolListAllVolumes(p.as_ptr(), &mut vols, 0),
        )?;
        let owned: Vec<VolRef> = (0..n as usize)
            .filter_map(|i| VolRef::from_raw(*vols.add(i)))
            .collect();
        libc::free(vols.cast());
        owned.iter().map(vol_name).collect()
    }
}
