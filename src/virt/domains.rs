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

use virt::connect::Connect;
use virt::sys;

use super::connection::Session;
use super::error::{Result, ERR_NO_DOMAIN_METADATA};
use super::handles::DomainRef;
use crate::ffi::libvirt_domain::domain_state;
use crate::ffi::libvirt_stats::domain_list_stats;

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

fn uuid_set(conn: &Connect, flags: u32) -> Result<HashSet<[u8; 16]>> {
    Ok(DomainRef::list_all(conn, flags)?
        .iter()
        .filter_map(DomainRef::raw_uuid)
        .collect())
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
    let stats =
        sys::VIR_DOMAIN_STATS_STATE | sys::VIR_DOMAIN_STATS_BALLOON | sys::VIR_DOMAIN_STATS_VCPU;
    let r = domain_list_stats(doms, stats, 0, |raw, params| {
        let mut b = Basic::default();
        params.for_each(|name, v| match name {
            b"state.state" => b.state = v.as_i64().map(|x| x as i32),
            b"state.reason" => b.reason = v.as_i64().unwrap_or(0) as i32,
            b"balloon.maximum" => b.max_mem = v.as_u64(),
            b"balloon.current" => b.cur_mem = v.as_u64(),
            b"vcpu.current" => b.vcpus = v.as_u64().map(|x| x as u32),
            _ => {}
        });
        out.insert(raw, b);
    });
    if let Err(e) = r {
        tracing::debug!(error = %e, "bulk domain stats unavailable, reading info per domain");
        out.clear();
    }
    out
}

/// Fills in what `bulk_basic` could not give, one `virDomainGetInfo` per domain.
fn info_of(d: &DomainRef) -> Result<Basic> {
    let (max_mem, cur_mem, vcpus) = d.memory_and_vcpus()?;
    let (state, reason) = domain_state(d)?;
    Ok(Basic {
        state: Some(state),
        reason,
        max_mem: Some(max_mem),
        cur_mem: Some(cur_mem),
        vcpus: Some(vcpus),
    })
}

/// Every domain of the connection, without titles and descriptions (these are queued
/// in `session.pending_metadata`).
pub fn list_all(session: &mut Session) -> Result<Vec<DomainRecord>> {
    let conn = session.conn();
    let doms = DomainRef::list_all(conn, 0)?;
    let persistent = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_PERSISTENT)?;
    let autostart = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_AUTOSTART)?;
    let managed = uuid_set(conn, sys::VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)?;
    let basics = bulk_basic(&doms);
    let mut out = Vec::with_capacity(doms.len());
    for d in &doms {
        let Some(raw) = d.raw_uuid() else { continue };
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
    match d.metadata(kind) {
        Err(e) if e.code() == ERR_NO_DOMAIN_METADATA => Ok(String::new()),
        r => r,
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
    let persistent = d.is_persistent()?;
    // Transient domains have no autostart: an error reads as "off".
    let autostart = d.autostart();
    let managed = d.has_managed_save();
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
