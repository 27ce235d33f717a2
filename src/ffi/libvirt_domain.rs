//! Domains and connections: define, undefine, look up, state changes, and the facts
//! about a connection (libvirt version, host name) that clone and migration show.

use std::ffi::CString;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{check, Result, VirtError};
use crate::virt::handles::{take_c_string, DomainRef};

/// The libvirt version of the connection's driver (the daemon's on a remote host), as
/// `major * 1_000_000 + minor * 1000 + release`.
pub fn lib_version(conn: &Connect) -> Result<u64> {
    let mut v: std::ffi::c_ulong = 0;
    // SAFETY: valid connection and out pointer.
    let r = unsafe { sys::virConnectGetLibVersion(conn.as_ptr(), &mut v) };
    check("virConnectGetLibVersion", r)?;
    Ok(v as u64)
}

/// The host name of the connection's host.
pub fn hostname(conn: &Connect) -> Result<String> {
    // SAFETY: valid connection; the string is ours to free.
    unsafe { take_c_string(sys::virConnectGetHostname(conn.as_ptr())) }
        .ok_or_else(|| VirtError::last("virConnectGetHostname"))
}

/// Defines (or redefines) a persistent domain from `xml`.
pub fn define_domain(conn: &Connect, xml: &str) -> Result<DomainRef> {
    let c = CString::new(xml)?;
    // SAFETY: valid connection and C string; the result is an owned reference or null.
    unsafe { DomainRef::from_raw(sys::virDomainDefineXML(conn.as_ptr(), c.as_ptr())) }
        .ok_or_else(|| VirtError::last("virDomainDefineXML"))
}

/// Undefines `d` with `flags` (`VIR_DOMAIN_UNDEFINE_*`).
pub fn undefine_domain(d: &DomainRef, flags: u32) -> Result<()> {
    // SAFETY: valid domain.
    let r = unsafe { sys::virDomainUndefineFlags(d.as_ptr(), flags) };
    check("virDomainUndefineFlags", r).map(drop)
}

/// Looks a domain up by name.
pub fn domain_by_name(conn: &Connect, name: &str) -> Result<DomainRef> {
    let c = CString::new(name)?;
    // SAFETY: valid connection and C string; the result is an owned reference or null.
    unsafe { DomainRef::from_raw(sys::virDomainLookupByName(conn.as_ptr(), c.as_ptr())) }
        .ok_or_else(|| VirtError::last("virDomainLookupByName"))
}

/// The domain's state and reason (`virDomainState`, reason number).
pub fn domain_state(d: &DomainRef) -> Result<(i32, i32)> {
    let (mut state, mut reason) = (0, 0);
    // SAFETY: valid domain and out pointers.
    let r = unsafe { sys::virDomainGetState(d.as_ptr(), &mut state, &mut reason, 0) };
    check("virDomainGetState", r)?;
    Ok((state, reason))
}

/// The connection's driver name ("QEMU", "TEST"...).
pub fn driver_type(conn: &Connect) -> Result<String> {
    // SAFETY: valid connection; the string is static in libvirt and must not be freed.
    unsafe {
        let p = sys::virConnectGetType(conn.as_ptr());
        if p.is_null() {
            return Err(VirtError::last("virConnectGetType"));
        }
        Ok(std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

/// The host's capabilities XML.
pub fn capabilities_xml(conn: &Connect) -> Result<String> {
    // SAFETY: valid connection; the string is ours to free.
    unsafe { take_c_string(sys::virConnectGetCapabilities(conn.as_ptr())) }
        .ok_or_else(|| VirtError::last("virConnectGetCapabilities"))
}
