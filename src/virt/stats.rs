//! Bulk domain statistics: one `virConnectGetAllDomainStats` per tick, rates from deltas.
//!
//! The records come through the FFI room's [`crate::ffi::libvirt_stats`], which frees
//! them properly (the `virt` crate's own call leaks them). The maths ([`rate`], [`cpu_percent`],
//! [`Sample::accumulate`]) is pure and unit-tested.
//!
//! CPU: `cpu-percent` is guest-normalised, `delta cpu.time / (delta wall * vCPUs)`,
//! clamped to 0..100: a guest using all its vCPUs shows 100 %. The host-relative
//! figure (`/ host CPUs`, virt-manager's "host CPU usage") is computed by
//! [`cpu_percent`] with the host's count.

use std::collections::HashMap;
use std::time::Instant;

use virt::sys;

use super::connection::Session;
use super::error::Result;
use super::handles::{format_uuid, DomainRef};
use crate::ffi::libvirt_stats::{self as raw, ParamList};

pub use crate::ffi::libvirt_stats::ParamValue;

/// Which groups of figures to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsFields {
    pub cpu: bool,
    pub memory: bool,
    pub disk: bool,
    pub net: bool,
}

impl Default for StatsFields {
    fn default() -> Self {
        StatsFields {
            cpu: true,
            memory: true,
            disk: true,
            net: true,
        }
    }
}

impl StatsFields {
    /// The virDomainStatsTypes mask.
    pub fn mask(self) -> u32 {
        let mut m = 0;
        if self.cpu {
            m |= sys::VIR_DOMAIN_STATS_CPU_TOTAL;
        }
        if self.memory {
            m |= sys::VIR_DOMAIN_STATS_BALLOON;
        }
        if self.disk {
            m |= sys::VIR_DOMAIN_STATS_BLOCK;
        }
        if self.net {
            m |= sys::VIR_DOMAIN_STATS_INTERFACE;
        }
        m
    }
}

/// Raw counters of one domain at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Total CPU time used, ns.
    pub cpu_time_ns: Option<u64>,
    balloon_current: Option<u64>,
    balloon_available: Option<u64>,
    balloon_unused: Option<u64>,
    /// Summed over all disks, bytes.
    pub disk_rd_bytes: Option<u64>,
    pub disk_wr_bytes: Option<u64>,
    /// Summed over all interfaces, bytes.
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
}

fn add(slot: &mut Option<u64>, v: Option<u64>) {
    if let Some(v) = v {
        *slot = Some(slot.unwrap_or(0).saturating_add(v));
    }
}

fn indexed(name: &[u8], prefix: &[u8], suffix: &[u8]) -> bool {
    name.len() > prefix.len() + suffix.len()
        && name.starts_with(prefix)
        && name.ends_with(suffix)
        && name[prefix.len()..name.len() - suffix.len()]
            .iter()
            .all(u8::is_ascii_digit)
}

impl Sample {
    /// Takes one stats field into account.
    pub fn accumulate(&mut self, name: &[u8], v: ParamValue) {
        match name {
            b"cpu.time" => self.cpu_time_ns = v.as_u64(),
            b"balloon.current" => self.balloon_current = v.as_u64(),
            b"balloon.available" => self.balloon_available = v.as_u64(),
            b"balloon.unused" => self.balloon_unused = v.as_u64(),
            n if indexed(n, b"block.", b".rd.bytes") => add(&mut self.disk_rd_bytes, v.as_u64()),
            n if indexed(n, b"block.", b".wr.bytes") => add(&mut self.disk_wr_bytes, v.as_u64()),
            n if indexed(n, b"net.", b".rx.bytes") => add(&mut self.net_rx_bytes, v.as_u64()),
            n if indexed(n, b"net.", b".tx.bytes") => add(&mut self.net_tx_bytes, v.as_u64()),
            _ => {}
        }
    }

    /// Memory in use, KiB: what the guest reports in use when its balloon driver says
    /// (available - unused), else the memory the balloon gives it.
    pub fn mem_used_kib(&self) -> Option<u64> {
        match (self.balloon_available, self.balloon_unused) {
            (Some(a), Some(u)) if a >= u => Some(a - u),
            _ => self.balloon_current,
        }
    }
}

/// Per-second rate of a counter over `dt_ns`; 0 when the counter went backwards (the
/// domain restarted) or no time passed.
pub fn rate(prev: u64, cur: u64, dt_ns: u64) -> f64 {
    if cur < prev || dt_ns == 0 {
        return 0.0;
    }
    (cur - prev) as f64 * 1e9 / dt_ns as f64
}

/// CPU use in percent of `ncpus` CPUs, clamped to 0..100.
pub fn cpu_percent(delta_cpu_ns: u64, dt_ns: u64, ncpus: u32) -> f64 {
    if dt_ns == 0 || ncpus == 0 {
        return 0.0;
    }
    (delta_cpu_ns as f64 * 100.0 / (dt_ns as f64 * f64::from(ncpus))).clamp(0.0, 100.0)
}

/// `busy` CPUs' worth of use (1.0 = one CPU fully busy) in percent of `ncpus` CPUs,
/// clamped to 0..100.
pub fn cpu_percent_of(busy: f64, ncpus: u32) -> f64 {
    if ncpus == 0 {
        return 0.0;
    }
    (busy * 100.0 / f64::from(ncpus)).clamp(0.0, 100.0)
}

/// The tick actually used: the configured one, stretched so that collecting stats
/// takes at most a quarter of the connection's worker time (a slow remote host or
/// thousands of running domains must not starve actions queued behind the ticks).
///
/// `recent_costs_ms` are the worker times of the latest ticks, newest last. Only a
/// sustained slowness counts (the fastest of the last three), so one slow call, such
/// as the first one while a guest boots, does not stretch the tick; the stretch is
/// capped at 30 s.
pub fn effective_interval_ms(configured_ms: u32, recent_costs_ms: &[u32]) -> u32 {
    let last3 = &recent_costs_ms[recent_costs_ms.len().saturating_sub(3)..];
    if last3.len() < 3 {
        return configured_ms;
    }
    let sustained = last3.iter().copied().min().unwrap_or(0);
    configured_ms.max(sustained.saturating_mul(4).min(30_000))
}

/// Figures of one active domain for one tick. Rates are `None` on a domain's first
/// sample (no delta yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainRates {
    pub uuid: String,
    /// CPU seconds used per second (1.0 = one CPU fully busy).
    pub cpu_busy: Option<f64>,
    pub mem_used_kib: Option<u64>,
    pub disk_read_bps: Option<f64>,
    pub disk_write_bps: Option<f64>,
    pub net_rx_bps: Option<f64>,
    pub net_tx_bps: Option<f64>,
}

impl DomainRates {
    /// Guest-normalised CPU % for a domain with `vcpus` vCPUs.
    pub fn cpu_percent(&self, vcpus: u32) -> Option<f64> {
        self.cpu_busy.map(|b| cpu_percent_of(b, vcpus.max(1)))
    }
}

/// Computes one domain's rates from two samples `dt_ns` apart.
pub fn rates_between(uuid: &str, prev: Option<(&Sample, u64)>, cur: &Sample) -> DomainRates {
    let mut r = DomainRates {
        uuid: uuid.to_owned(),
        mem_used_kib: cur.mem_used_kib(),
        ..Default::default()
    };
    let Some((p, dt)) = prev else { return r };
    let pair = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| rate(a, b, dt));
    r.cpu_busy = pair(p.cpu_time_ns, cur.cpu_time_ns).map(|ns_per_s| ns_per_s / 1e9);
    r.disk_read_bps = pair(p.disk_rd_bytes, cur.disk_rd_bytes);
    r.disk_write_bps = pair(p.disk_wr_bytes, cur.disk_wr_bytes);
    r.net_rx_bps = pair(p.net_rx_bytes, cur.net_rx_bytes);
    r.net_tx_bps = pair(p.net_tx_bytes, cur.net_tx_bytes);
    r
}

/// Previous samples per domain UUID, kept on the worker between ticks, and the
/// domain handles of a restricted tick (looked up once, not every tick).
#[derive(Default)]
pub struct StatsTracker {
    prev: HashMap<String, (Instant, Sample)>,
    handles: HashMap<String, DomainRef>,
}

/// One tick's result.
#[derive(Debug, Clone, Default)]
pub struct TickResult {
    pub host_cpus: u32,
    pub domains: Vec<DomainRates>,
}

impl StatsTracker {
    /// The domains in `uuids` (owned by the tracker), looking up the ones not seen
    /// before and forgetting the ones no longer asked for.
    fn handles_for(&mut self, session: &Session, uuids: &[String]) -> Vec<&DomainRef> {
        let wanted: std::collections::HashSet<&str> = uuids.iter().map(String::as_str).collect();
        self.handles.retain(|u, _| wanted.contains(u.as_str()));
        let mut out = Vec::with_capacity(uuids.len());
        for u in uuids {
            if !self.handles.contains_key(u) {
                match DomainRef::lookup_uuid(session.conn(), u) {
                    Ok(d) => {
                        self.handles.insert(u.clone(), d);
                    }
                    Err(e) => {
                        tracing::debug!(uuid = %u, error = %e, "no stats for a domain");
                        continue;
                    }
                }
            }
            if self.handles.contains_key(u) {
                out.push(u);
            }
        }
        out.iter().filter_map(|u| self.handles.get(*u)).collect()
    }

    /// Feeds one tick's samples (all taken at `now`); domains absent from `samples`
    /// are forgotten so a restarted domain starts from a fresh baseline.
    pub fn update(&mut self, now: Instant, samples: Vec<(String, Sample)>) -> Vec<DomainRates> {
        let mut next = HashMap::with_capacity(samples.len());
        let mut out = Vec::with_capacity(samples.len());
        for (uuid, s) in samples {
            let prev = self.prev.get(&uuid).map(|(t, p)| {
                let dt = now.saturating_duration_since(*t).as_nanos() as u64;
                (p, dt)
            });
            out.push(rates_between(&uuid, prev, &s));
            next.insert(uuid, (now, s));
        }
        self.prev = next;
        out
    }
}

/// Collects one tick of stats in one call: for all active domains, or with `only`
/// for just those UUIDs (say the rows on screen; pass active domains only).
pub fn poll(
    session: &Session,
    fields: StatsFields,
    tracker: &mut StatsTracker,
    only: Option<&[String]>,
) -> Result<TickResult> {
    let mask = fields.mask();
    let done = |tracker: &mut StatsTracker, now, samples| TickResult {
        host_cpus: session.host_cpus,
        domains: tracker.update(now, samples),
    };
    if mask == 0 {
        return Ok(done(tracker, Instant::now(), Vec::new()));
    }
    let mut samples = Vec::new();
    let mut take = |raw: [u8; 16], params: &ParamList| {
        let mut s = Sample::default();
        params.for_each(|name, v| s.accumulate(name, v));
        samples.push((format_uuid(&raw), s));
    };
    match only {
        None => raw::all_domain_stats(
            session.conn(),
            mask,
            sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE,
            &mut take,
        )?,
        Some(uuids) => {
            let doms = tracker.handles_for(session, uuids);
            if doms.is_empty() {
                return Ok(done(tracker, Instant::now(), Vec::new()));
            }
            raw::domain_list_stats(doms, mask, 0, &mut take)?;
        }
    }
    let now = Instant::now();
    Ok(done(tracker, now, samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn sample(fields: &[(&str, ParamValue)]) -> Sample {
        let mut s = Sample::default();
        for (n, v) in fields {
            s.accumulate(n.as_bytes(), *v);
        }
        s
    }

    #[test]
    fn decodes_and_sums_indexed_fields() {
        let s = sample(&[
            ("cpu.time", ParamValue::ULLong(5_000_000_000)),
            ("block.count", ParamValue::UInt(2)),
            ("block.0.rd.bytes", ParamValue::ULLong(100)),
            ("block.1.rd.bytes", ParamValue::ULLong(50)),
            ("block.0.wr.bytes", ParamValue::ULLong(7)),
            ("block.0.name", ParamValue::Str("vda")),
            ("net.0.rx.bytes", ParamValue::ULLong(1000)),
            ("net.1.rx.bytes", ParamValue::ULLong(24)),
            ("net.0.tx.bytes", ParamValue::ULLong(3)),
            ("net.0.rx.pkts", ParamValue::ULLong(999)),
            ("balloon.current", ParamValue::ULLong(2048)),
        ]);
        assert_eq!(s.cpu_time_ns, Some(5_000_000_000));
        assert_eq!(s.disk_rd_bytes, Some(150));
        assert_eq!(s.disk_wr_bytes, Some(7));
        assert_eq!(s.net_rx_bytes, Some(1024));
        assert_eq!(s.net_tx_bytes, Some(3));
        assert_eq!(s.mem_used_kib(), Some(2048));
    }

    #[test]
    fn memory_prefers_guest_reported_use() {
        let s = sample(&[
            ("balloon.current", ParamValue::ULLong(4096)),
            ("balloon.available", ParamValue::ULLong(4000)),
            ("balloon.unused", ParamValue::ULLong(1000)),
        ]);
        assert_eq!(s.mem_used_kib(), Some(3000));
    }

    #[test]
    fn rates_from_known_deltas() {
        // 2 s apart: 1.5 CPU-seconds used, 4 MiB read, 1 MiB written, 2 KB in, 1 KB out.
        let a = sample(&[
            ("cpu.time", ParamValue::ULLong(10_000_000_000)),
            ("block.0.rd.bytes", ParamValue::ULLong(1 << 20)),
            ("block.0.wr.bytes", ParamValue::ULLong(0)),
            ("net.0.rx.bytes", ParamValue::ULLong(500)),
            ("net.0.tx.bytes", ParamValue::ULLong(500)),
        ]);
        let b = sample(&[
            ("cpu.time", ParamValue::ULLong(11_500_000_000)),
            ("block.0.rd.bytes", ParamValue::ULLong(5 << 20)),
            ("block.0.wr.bytes", ParamValue::ULLong(1 << 20)),
            ("net.0.rx.bytes", ParamValue::ULLong(2500)),
            ("net.0.tx.bytes", ParamValue::ULLong(1500)),
        ]);
        let r = rates_between("u", Some((&a, 2_000_000_000)), &b);
        assert!((r.cpu_busy.unwrap() - 0.75).abs() < 1e-9);
        // 0.75 CPU busy: 37.5 % of a 2-vCPU guest, 9.375 % of an 8-CPU host.
        assert!((r.cpu_percent(2).unwrap() - 37.5).abs() < 1e-9);
        assert!((cpu_percent(1_500_000_000, 2_000_000_000, 8) - 9.375).abs() < 1e-9);
        assert_eq!(r.disk_read_bps, Some((2 << 20) as f64));
        assert_eq!(r.disk_write_bps, Some((1 << 19) as f64));
        assert_eq!(r.net_rx_bps, Some(1000.0));
        assert_eq!(r.net_tx_bps, Some(500.0));
    }

    #[test]
    fn counter_reset_and_first_sample_give_no_bogus_rate() {
        assert_eq!(rate(100, 50, 1_000_000_000), 0.0);
        assert_eq!(rate(100, 200, 0), 0.0);
        assert_eq!(cpu_percent(10_000_000_000, 1_000_000_000, 1), 100.0);
        let s = sample(&[("cpu.time", ParamValue::ULLong(1))]);
        let r = rates_between("u", None, &s);
        assert_eq!(r.cpu_busy, None);
    }

    #[test]
    fn tracker_forgets_stopped_domains() {
        let mut t = StatsTracker::default();
        let t0 = Instant::now();
        let s = |ns| sample(&[("cpu.time", ParamValue::ULLong(ns))]);
        let r = t.update(t0, vec![("a".into(), s(0)), ("b".into(), s(0))]);
        assert!(r.iter().all(|r| r.cpu_busy.is_none()));
        let t1 = t0 + Duration::from_secs(1);
        let r = t.update(t1, vec![("a".into(), s(500_000_000))]);
        assert!((r[0].cpu_busy.unwrap() - 0.5).abs() < 1e-9);
        // b comes back: fresh baseline, no rate from the stale sample.
        let r = t.update(t1 + Duration::from_secs(1), vec![("b".into(), s(9))]);
        assert_eq!(r[0].cpu_busy, None);
    }

    #[test]
    fn tick_stretches_when_collecting_is_slow() {
        assert_eq!(effective_interval_ms(1000, &[10, 10, 10]), 1000);
        assert_eq!(effective_interval_ms(1000, &[900, 400, 500, 450]), 1600);
        // One slow call (a guest booting) does not count, nor do too few samples.
        assert_eq!(effective_interval_ms(250, &[10, 7700, 12]), 250);
        assert_eq!(effective_interval_ms(250, &[7700, 7700]), 250);
        // Capped.
        assert_eq!(
            effective_interval_ms(1000, &[60_000, 60_000, 60_000]),
            30_000
        );
    }

    #[test]
    fn field_mask() {
        assert_eq!(
            StatsFields {
                cpu: true,
                memory: false,
                disk: true,
                net: false
            }
            .mask(),
            sys::VIR_DOMAIN_STATS_CPU_TOTAL | sys::VIR_DOMAIN_STATS_BLOCK
        );
    }
}
