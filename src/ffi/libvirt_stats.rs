//! Typed parameters and domain statistics records.
//!
//! The `virt` crate frees a stats record list with `free()` (leaking every record and
//! domain reference), so the calls are made here and the list released with
//! `virDomainStatsRecordListFree`; callers see each record as a UUID and its typed
//! parameters, borrowed for the visit.

use std::ffi::{c_int, CStr};
use std::ptr;

use virt::connect::Connect;
use virt::sys;

use crate::virt::error::{Result, VirtError};
use crate::virt::handles::DomainRef;

/// A typed parameter's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue<'a> {
    Int(i32),
    UInt(u32),
    LLong(i64),
    ULLong(u64),
    Double(f64),
    Bool(bool),
    Str(&'a str),
}

impl ParamValue<'_> {
    /// The value as u64 when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::Int(v) => u64::try_from(v).ok(),
            Self::UInt(v) => Some(v.into()),
            Self::LLong(v) => u64::try_from(v).ok(),
            Self::ULLong(v) => Some(v),
            _ => None,
        }
    }

    /// The value as i64 when it is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::Int(v) => Some(v.into()),
            Self::UInt(v) => Some(v.into()),
            Self::LLong(v) => Some(v),
            Self::ULLong(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }
}

/// A list of typed parameters that libvirt lends for the time of a visit.
pub struct ParamList<'a>(&'a [sys::virTypedParameter]);

impl<'a> ParamList<'a> {
    /// Borrows `n` parameters at `params` (null gives an empty list).
    ///
    /// # Safety
    /// `params` must be null or point to `n` valid typed parameters that outlive `'a`.
    pub(crate) unsafe fn from_raw(params: sys::virTypedParameterPtr, n: c_int) -> Self {
        if params.is_null() || n <= 0 {
            return ParamList(&[]);
        }
        // SAFETY: the caller promises `n` valid parameters at `params`.
        ParamList(unsafe { std::slice::from_raw_parts(params, n as usize) })
    }

    /// Calls `f(name, value)` for each parameter of a known type.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], ParamValue<'a>)) {
        for p in self.0 {
            // SAFETY: libvirt NUL-terminates `field`, and `value` is the union member
            // that `type_` names; a string value is null or NUL-terminated.
            let v = unsafe {
                match p.type_ as u32 {
                    sys::VIR_TYPED_PARAM_INT => ParamValue::Int(p.value.i),
                    sys::VIR_TYPED_PARAM_UINT => ParamValue::UInt(p.value.ui),
                    sys::VIR_TYPED_PARAM_LLONG => ParamValue::LLong(p.value.l),
                    sys::VIR_TYPED_PARAM_ULLONG => ParamValue::ULLong(p.value.ul),
                    sys::VIR_TYPED_PARAM_DOUBLE => ParamValue::Double(p.value.d),
                    sys::VIR_TYPED_PARAM_BOOLEAN => ParamValue::Bool(p.value.b != 0),
                    sys::VIR_TYPED_PARAM_STRING if !p.value.s.is_null() => {
                        match CStr::from_ptr(p.value.s).to_str() {
                            Ok(s) => ParamValue::Str(s),
                            Err(_) => continue,
                        }
                    }
                    _ => continue,
                }
            };
            // SAFETY: see above.
            let name = unsafe { CStr::from_ptr(p.field.as_ptr()) }.to_bytes();
            f(name, v);
        }
    }
}

/// Visits and frees a record list.
///
/// # Safety
/// `recs` must be null or a list of `n` records from a stats call; it is freed here.
unsafe fn take_records(
    recs: *mut sys::virDomainStatsRecordPtr,
    n: c_int,
    mut visit: impl FnMut([u8; 16], &ParamList),
) {
    if recs.is_null() {
        return;
    }
    for i in 0..n.max(0) as usize {
        // SAFETY: `recs` holds `n` valid records, each with its domain and params.
        unsafe {
            let rec = *recs.add(i);
            let mut raw = [0u8; 16];
            if sys::virDomainGetUUID((*rec).dom, raw.as_mut_ptr()) < 0 {
                continue;
            }
            visit(raw, &ParamList::from_raw((*rec).params, (*rec).nparams));
        }
    }
    // SAFETY: frees every record and drops the domain references they hold; nothing
    // borrowed from them is left (the visits are over).
    unsafe { sys::virDomainStatsRecordListFree(recs) };
}

/// `virConnectGetAllDomainStats`: `visit(raw uuid, parameters)` per record.
pub fn all_domain_stats(
    conn: &Connect,
    mask: u32,
    flags: u32,
    visit: impl FnMut([u8; 16], &ParamList),
) -> Result<()> {
    let mut recs: *mut sys::virDomainStatsRecordPtr = ptr::null_mut();
    // SAFETY: valid connection and out pointer; the records are visited and freed by
    // `take_records`.
    unsafe {
        let n = sys::virConnectGetAllDomainStats(conn.as_ptr(), mask, &mut recs, flags);
        if n < 0 {
            return Err(VirtError::last("virConnectGetAllDomainStats"));
        }
        take_records(recs, n, visit);
    }
    Ok(())
}

/// `virDomainListGetStats` over `domains`: `visit(raw uuid, parameters)` per record.
pub fn domain_list_stats<'d>(
    domains: impl IntoIterator<Item = &'d DomainRef>,
    mask: u32,
    flags: u32,
    visit: impl FnMut([u8; 16], &ParamList),
) -> Result<()> {
    let mut arr: Vec<sys::virDomainPtr> = domains.into_iter().map(DomainRef::as_ptr).collect();
    if arr.is_empty() {
        return Ok(());
    }
    arr.push(ptr::null_mut());
    let mut recs: *mut sys::virDomainStatsRecordPtr = ptr::null_mut();
    // SAFETY: a null-terminated array of domains that the caller's references keep
    // alive; the records are visited and freed by `take_records`.
    unsafe {
        let n = sys::virDomainListGetStats(arr.as_mut_ptr(), mask, &mut recs, flags);
        if n < 0 {
            return Err(VirtError::last("virDomainListGetStats"));
        }
        take_records(recs, n, visit);
    }
    Ok(())
}
