//! Reading domains: the initial fill, one domain's refresh and lazy metadata.
//!
//! The fill costs a constant number of calls whatever the number of domains: one
//! `virConnectListAllDomains` for the list, three more with filter flags for the
//! persistent / autostart / managed-save sets, and one `virDomainListGetStats` for
//! state, reason, memory and vCPUs. Only drivers whose stats lack memory or vCPUs (the
//! test driver) cost a `virDomainGetInfo` per domain. Titles and descriptions need
//! one `virDomainGetMetadata` RPC each per domain, so they are read afterwards in
//! batches ([`read_metadata_batch`]) and the list shows up without waiting for them.

use std::collections::{HashMap, HashSet};
use std::ffi::c_int;
use std::ptr;

use virt::connect::Connect;
use virt::sys;

use super::connection::Session;
use super::error::{check, Result, VirtError, ERR_NO_DOMAIN_METADATA};
use super::handles::{take_c_string, DomainRef};
use super::stats::for_each_param;

/// virDomainState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum RunState {
    #[default]
    NoState,
    Running,
    Blocked,
    Paused,
    ShuttingDown,
    Shutoff,
    Crashed,
    PmSuspended,
}

impl RunState {
    /// From virDomainState.
    pub fn from_raw(v: i32) -> Self {
        match v {
            1 => Self::Running,
            2 => Self::Blocked,
            3 => Self::Paused,
            4 => Self::ShuttingDown,
            5 => Self::Shutoff,
            6 => Self::Crashed,
            7 => Self::PmSuspended,
            _ => Self::NoState,
        }
    }

    /// True when the domain has a running process (stats make sense).
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Shutoff | Self::NoState)
    }
}

/// What the list shows of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainRecord {
    pub uuid: String,
    pub name: String,
    /// Running id, `None` when inactive.
    pub id: Option<u32>,
    pub state: RunState,
    /// The virDomain*Reason number belonging to `state`.
    pub reason: i32,
    pub vcpus: u32,
    /// Maximum memory in KiB (`<memory>`: what the guest may grow to).
    pub max_memory_kib: u64,
    /// Memory the guest has now, in KiB (`<currentMemory>`, or the balloon's size).
    pub current_memory_kib: u64,
    pub autostart: bool,
    pub persistent: bool,
    pub has_managed_save: bool,
    /// `None` when not read yet (see [`read_metadata_batch`]).
    pub title: Option<String>,
    /// `None` when not read yet.
    pub description: Option<String>,
}

/// Lists domains as owned references (one RPC).
fn list_raw(conn: &Connect, flags: u32) -> Result<Vec<DomainRef>> {
    let mut doms: *mut sys::virDomainPtr = ptr::null_mut();
    // SAFETY: libvirt fills an array of owned references that we free with free().
    unsafe {
        let n = check(
            "virConnectListAllDomains",
            sys::virConnectListAllDomains(conn.as_ptr(), &mut doms, flags),
        )?;
        let mut out = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            if let Some(d) = DomainRef::from_raw(*doms.add(i)) {
                out.push(d);
            }
        }
        libc::free(doms.cast());
        Ok(out)
    }
}

fn raw_uuid(d: &DomainRef) -> Option<[u8; 16]> {
    let mut raw = [0u8; 16];
    // SAFETY: 16-byte buffer.
    (unsafe { sys::virDomainGetUUID(d.as_ptr(), raw.as_mut_ptr()) } == 0).then_some(raw)
}

fn uuid_set(conn: &Connect, flags: u32) -> Result<HashSet<[u8; 16]>> {
    Ok(list_raw(conn, flags)?.iter().filter_map(raw_uuid).collect())
}

#[derive(Default, Clone, Copy)]
struct Basic {
    state: Option<i32>,
    reason: i32,
    max_mem: Option<u64>,
    cur_mem: Option<u64>,
    vcpus: Option<u32>,
}

/// State, reason, memory and vCPUs of many domains in one call.
fn bulk_basic(doms: &[DomainRef]) -> HashMap<[u8; 16], Basic> {
    let mut out = HashMap::with_capacity(doms.len());
    if doms.is_empty() {
        return out;
    }
    let mut arr: Vec<sys::virDomainPtr> = doms.iter().map(|d| d.as_ptr()).collect();
    arr.push(ptr::null_mut());
    let mut recs: *mut sys::virDomainStatsRecordPtr = ptr::null_mut();
    let stats =
        sys::VIR_DOMAIN_STATS_STATE | sys::VIR_DOMAIN_STATS_BALLOON | sys::VIR_DOMAIN_STATS_VCPU;
    // SAFETY: null-terminated array of valid domains; the record list is freed with
    // virDomainStatsRecordListFree below.
    unsafe {
        let n = sys::virDomainListGetStats(arr.as_mut_ptr(), stats, &mut recs, 0);
        if n < 0 {
            let e = VirtError::last("virDomainListGetStats");
            tracing::debug!(error = %e, "bulk domain stats unavailable, reading info per domain");
            return out;
        }
        for i in 0..n as usize {
            let rec = *recs.add(i);
            let mut raw = [0u8; 16];
            if sys::virDomainGetUUID((*rec).dom, raw.as_mut_ptr()) < 0 {
                continue;
            }
            let mut b = Basic::default();
            for_each_param((*rec).params, (*rec).nparams, |name, v| match name {
                b"state.state" => b.state = v.as_i64().map(|x| x as i32),
                b"state.reason" => b.reason = v.as_i64().unwrap_or(0) as i32,
                b"balloon.maximum" => b.max_mem = v.as_u64(),
                b"balloon.current" => b.cur_mem = v.as_u64(),
                b"vcpu.current" => b.vcpus = v.as_u64().map(|x| x as u32),
                _ => {}
            });
            out.insert(raw, b);
        }
        sys::virDomainStatsRecordListFree(recs);
    }
    out
}

/// Fills in what `bulk_basic` could not give, one `virDomainGetInfo` per domain.
fn info_of(d: &DomainRef) -> Result<Basic> {
    // SAFETY: valid domain; zeroed POD out-parameters.
    unsafe {
        let mut info: sys::virDomainInfo = std::mem::zeroed();
        check(
            "virDomainGetInfo",
            sys::virDomainGetInfo(d.as_ptr(), &mut info),
        )?;
        let (mut st, mut reason): (c_int, c_int) = (0, 0);
        check(
            "virDomainGetState",
            sys::virDomainGetState(d.as_ptr(), &mut st, &mut reason, 0),
        )?;
        Ok(Basic {
            state: Some(st),
            reason,
            max_mem: Some(info.maxMem as u64),
            cur_mem: Some(info.memory as u64),
            vcpus: Some(info.nrVirtCpu as u32),
        })
    }
}

/// Every domain of the connection, without titles and descriptions (these are queued
/// in `session.pending_metadata`).
pub fn list_all(session: &mut Session) -> Result<Vec<DomainRecord>> {
    let conn = session.conn();
    let doms = list_raw(conn, 0)?;
    let persistent = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_PERSISTENT)?;
    let autostart = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_AUTOSTART)?;
    let managed = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)?;
    let basics = bulk_basic(&doms);
    let mut out = Vec::with_capacity(doms.len());
    for d in &doms {
        let Some(raw) = raw_uuid(d) else { continue };
        let mut b = basics.get(&raw).copied().unwrap_or_default();
        // balloon.current comes with balloon.maximum: it needs no check of its own.
        if b.state.is_none() || b.max_mem.is_none() || b.vcpus.is_none() {
            match info_of(d) {
                Ok(i) => {
                    b.state = b.state.or(i.state);
                    if b.state == i.state {
                        b.reason = i.reason;
                    }
                    b.max_mem = b.max_mem.or(i.max_mem);
                    b.cur_mem = b.cur_mem.or(i.cur_mem);
                    b.vcpus = b.vcpus.or(i.vcpus);
                }
                // Undefined between the list and now: leave it out.
                Err(e) if e.is_no_domain() => continue,
                Err(e) => return Err(e),
            }
        }
        out.push(DomainRecord {
            uuid: super::handles::format_uuid(&raw),
            name: d.name()?,
            id: d.id(),
            state: RunState::from_raw(b.state.unwrap_or(0)),
            reason: b.reason,
            vcpus: b.vcpus.unwrap_or(0),
            max_memory_kib: b.max_mem.unwrap_or(0),
            current_memory_kib: b.cur_mem.or(b.max_mem).unwrap_or(0),
            autostart: autostart.contains(&raw),
            persistent: persistent.contains(&raw),
            has_managed_save: managed.contains(&raw),
            title: None,
            description: None,
        });
    }
    session.pending_metadata = doms;
    Ok(out)
}

/// Reads one metadata field; `Some("")` when the domain has none.
fn metadata(d: &DomainRef, kind: u32) -> Result<String> {
    // SAFETY: valid domain; the returned string is ours to free.
    unsafe {
        let p = sys::virDomainGetMetadata(d.as_ptr(), kind as c_int, ptr::null(), 0);
        if p.is_null() {
            let e = VirtError::last("virDomainGetMetadata");
            if e.code() == ERR_NO_DOMAIN_METADATA {
                return Ok(String::new());
            }
            return Err(e);
        }
        Ok(take_c_string(p).unwrap_or_default())
    }
}

/// Title and description of one domain.
pub fn read_metadata(d: &DomainRef) -> Result<(String, String)> {
    Ok((
        metadata(d, sys::VIR_DOMAIN_METADATA_TITLE)?,
        metadata(d, sys::VIR_DOMAIN_METADATA_DESCRIPTION)?,
    ))
}

/// Reads title and description for up to `max` queued domains: `(uuid, title,
/// description)`. Returns an empty vector when nothing is queued.
pub fn read_metadata_batch(session: &mut Session, max: usize) -> Vec<(String, String, String)> {
    let take = max.min(session.pending_metadata.len());
    let batch: Vec<DomainRef> = session.pending_metadata.drain(..take).collect();
    batch
        .iter()
        .filter_map(|d| {
            let (t, desc) = read_metadata(d).ok()?;
            Some((d.uuid_string().ok()?, t, desc))
        })
        .collect()
}

/// Everything about one domain, or `None` when it does not exist (any more).
pub fn read_one(conn: &Connect, uuid: &str) -> Result<Option<DomainRecord>> {
    let d = match DomainRef::lookup_uuid(conn, uuid) {
        Ok(d) => d,
        Err(e) if e.is_no_domain() => return Ok(None),
        Err(e) => return Err(e),
    };
    match read_domain(&d) {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.is_no_domain() => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_domain(d: &DomainRef) -> Result<DomainRecord> {
    let b = info_of(d)?;
    // SAFETY: valid domain pointer for these simple queries.
    let (persistent, autostart, managed) = unsafe {
        let p = check(
            "virDomainIsPersistent",
            sys::virDomainIsPersistent(d.as_ptr()),
        )?;
        let mut a: c_int = 0;
        // Transient domains have no autostart: treat an error as "off".
        let a = if sys::virDomainGetAutostart(d.as_ptr(), &mut a) == 0 {
            a
        } else {
            0
        };
        let m = sys::virDomainHasManagedSaveImage(d.as_ptr(), 0);
        (p == 1, a == 1, m == 1)
    };
    let (title, description) = read_metadata(d)?;
    Ok(DomainRecord {
        uuid: d.uuid_string()?,
        name: d.name()?,
        id: d.id(),
        state: RunState::from_raw(b.state.unwrap_or(0)),
        reason: b.reason,
        vcpus: b.vcpus.unwrap_or(0),
        max_memory_kib: b.max_mem.unwrap_or(0),
        current_memory_kib: b.cur_mem.or(b.max_mem).unwrap_or(0),
        autostart,
        persistent,
        has_managed_save: managed,
        title: Some(title),
        description: Some(description),
    })
}
