//! Migration (`virDomainMigrate3` with typed parameters) and the job figures of a
//! domain (`virDomainGetJobStats`, `virDomainAbortJob`).

use std::collections::HashMap;
use std::ffi::{c_int, CStr, CString};
use std::ptr;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{check, Result, VirtError};
use crate::virt::handles::DomainRef;
use crate::virt::stats::{for_each_param, ParamValue};

/// A list of typed parameters built for one call; freed on drop.
pub struct TypedParams {
    params: sys::virTypedParameterPtr,
    n: c_int,
    max: c_int,
}

// SAFETY: the array is plain heap memory owned by this value alone; moving it to
// another thread moves that ownership.
unsafe impl Send for TypedParams {}

impl Default for TypedParams {
    fn default() -> Self {
        TypedParams {
            params: ptr::null_mut(),
            n: 0,
            max: 0,
        }
    }
}

impl TypedParams {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a string parameter (`name` is one of libvirt's `VIR_MIGRATE_PARAM_*`).
    pub fn add_string(&mut self, name: &CStr, value: &str) -> Result<()> {
        let v = CString::new(value)?;
        // SAFETY: libvirt grows the array it owns through the three pointers and copies
        // both strings.
        let r = unsafe {
            sys::virTypedParamsAddString(
                &mut self.params,
                &mut self.n,
                &mut self.max,
                name.as_ptr(),
                v.as_ptr(),
            )
        };
        check("virTypedParamsAddString", r).map(drop)
    }
}

impl Drop for TypedParams {
    fn drop(&mut self) {
        // SAFETY: the array and its strings were allocated by libvirt's add functions.
        unsafe {
            if !self.params.is_null() {
                sys::virTypedParamsFree(self.params, self.n);
            }
        }
    }
}

/// Migrates `d` to the host of `dest` (the client drives both sides unless `flags`
/// ask for peer to peer). Blocks until the migration ends; returns the domain on the
/// destination.
pub fn migrate3(
    d: &DomainRef,
    dest: &Connect,
    params: &TypedParams,
    flags: u32,
) -> Result<DomainRef> {
    // SAFETY: valid domain and connection; libvirt reads the parameter array only.
    let p = unsafe {
        sys::virDomainMigrate3(
            d.as_ptr(),
            dest.as_ptr(),
            params.params,
            params.n as u32,
            flags,
        )
    };
    // SAFETY: the result is an owned reference or null.
    unsafe { DomainRef::from_raw(p) }.ok_or_else(|| VirtError::last("virDomainMigrate3"))
}

/// One read of a domain's job figures: the job type (`virDomainJobType`) and its
/// integer parameters by name (`VIR_DOMAIN_JOB_*` keys such as "data_processed").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    /// 0 none, 1 bounded, 2 unbounded, 3 completed, 4 failed, 5 cancelled.
    pub kind: i32,
    /// Integer figures by parameter name.
    pub values: HashMap<String, u64>,
}

impl JobStats {
    /// A figure by libvirt's parameter name.
    pub fn get(&self, key: &CStr) -> Option<u64> {
        self.values.get(key.to_str().ok()?).copied()
    }
}

/// The figures of the domain's running job (`completed`: of the last finished one).
pub fn job_stats(d: &DomainRef, completed: bool) -> Result<JobStats> {
    let mut kind: c_int = 0;
    let mut params: sys::virTypedParameterPtr = ptr::null_mut();
    let mut n: c_int = 0;
    let flags = if completed {
        sys::VIR_DOMAIN_JOB_STATS_COMPLETED
    } else {
        0
    };
    // SAFETY: valid domain and out pointers; libvirt allocates the array, which we read
    // and free with virTypedParamsFree.
    unsafe {
        check(
            "virDomainGetJobStats",
            sys::virDomainGetJobStats(d.as_ptr(), &mut kind, &mut params, &mut n, flags),
        )?;
        let mut values = HashMap::new();
        for_each_param(params, n, |name, v: ParamValue| {
            if let (Ok(name), Some(v)) = (std::str::from_utf8(name), v.as_u64()) {
                values.insert(name.to_owned(), v);
            }
        });
        sys::virTypedParamsFree(params, n);
        Ok(JobStats { kind, values })
    }
}

/// Aborts the domain's running job (a migration ends with libvirt's "canceled by
/// client" error).
pub fn abort_job(d: &DomainRef) -> Result<()> {
    // SAFETY: valid domain.
    let r = unsafe { sys::virDomainAbortJob(d.as_ptr()) };
    check("virDomainAbortJob", r).map(drop)
}
