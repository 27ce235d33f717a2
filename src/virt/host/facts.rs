//! The host itself: its name, libvirt and hypervisor versions, CPUs and memory, and
//! its CPU and memory load from libvirt's node counters (one call of each per tick,
//! turned into a percentage and a figure in use by pure functions).

use std::time::Instant;

use virt::connect::Connect;

use super::call;
use crate::ffi::libvirt_host::{self, NodeCpuTimes, NodeMemory};
use crate::virt::capabilities;
use crate::virt::error::Result;

/// What the host page's overview shows about a host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostFacts {
    /// The host's name as libvirt reports it.
    pub hostname: String,
    /// The connection's URI as libvirt canonicalised it.
    pub uri: String,
    /// The driver's name ("QEMU", "TEST").
    pub driver: String,
    /// The libvirt version of the daemon (or of the library for in-process drivers).
    pub libvirt_version: String,
    /// The hypervisor's version ("7.2.0"); `None` when the driver has none.
    pub hypervisor_version: Option<String>,
    /// The host's architecture ("x86_64").
    pub arch: String,
    /// The CPU model libvirt names, else the node info's model.
    pub cpu_model: String,
    /// The CPU vendor, when known.
    pub cpu_vendor: Option<String>,
    /// Logical CPUs.
    pub cpus: u32,
    /// CPU frequency, MHz.
    pub mhz: u32,
    /// Sockets, cores per socket, threads per core, NUMA cells.
    pub topology: (u32, u32, u32, u32),
    /// Memory, KiB.
    pub memory_kib: u64,
}

/// libvirt's version number (major * 1,000,000 + minor * 1,000 + release) as text.
pub fn version_text(v: u64) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1_000) % 1_000, v % 1_000)
}

/// Reads the host's facts.
pub fn read(conn: &Connect) -> Result<HostFacts> {
    let info = call("virNodeGetInfo", conn.node_info())?;
    let caps = capabilities::host_capabilities(conn).ok();
    // The daemon's version where there is one; in-process drivers have only the library's.
    let libvirt_version = conn
        .lib_version()
        .or_else(|_| virt::connect::Connect::version())
        .map(|v| version_text(v as u64))
        .unwrap_or_default();
    let hypervisor_version = conn
        .hyp_version()
        .ok()
        .filter(|v| *v > 0)
        .map(|v| version_text(v as u64));
    let arch = caps
        .as_ref()
        .map(|c| c.host_arch.clone())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| info.model.clone());
    Ok(HostFacts {
        hostname: conn.hostname().unwrap_or_default(),
        uri: conn.uri().unwrap_or_default(),
        driver: conn.driver_type().unwrap_or_default(),
        libvirt_version,
        hypervisor_version,
        cpu_model: caps
            .as_ref()
            .and_then(|c| c.host_cpu_model.clone())
            .unwrap_or_else(|| info.model.clone()),
        cpu_vendor: caps.as_ref().and_then(|c| c.host_cpu_vendor.clone()),
        arch,
        cpus: info.cpus,
        mhz: info.mhz,
        topology: (info.sockets, info.cores, info.threads, info.nodes),
        memory_kib: info.memory,
    })
}

/// One reading of the node's counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeSample {
    /// When it was read.
    pub at: Instant,
    /// CPU time counters; `None` when the driver has none.
    pub cpu: Option<NodeCpuTimes>,
    /// Memory figures, KiB; `None` when the driver has none.
    pub memory: Option<NodeMemory>,
    /// Free memory from `virNodeGetFreeMemory`, bytes, for drivers without memory
    /// stats (only read when `memory` is `None`).
    pub free_bytes: Option<u64>,
}

/// Reads the node's CPU and memory counters (one libvirt call each).
pub fn sample(conn: &Connect) -> NodeSample {
    let cpu = libvirt_host::node_cpu_times(conn).ok();
    let memory = libvirt_host::node_memory(conn).ok();
    let free_bytes = if memory.is_none() {
        conn.free_memory().ok()
    } else {
        None
    };
    NodeSample {
        at: Instant::now(),
        cpu,
        memory,
        free_bytes,
    }
}

/// The host's load between two samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NodeLoad {
    /// CPU busy share over all CPUs, 0-100; `None` without two CPU readings or when no
    /// CPU time passed.
    pub cpu_percent: Option<f64>,
    /// Memory in use (not free, not buffers or cache), KiB.
    pub memory_used_kib: Option<u64>,
    /// All memory, KiB.
    pub memory_total_kib: Option<u64>,
}

/// The load shown for `now`, given the previous sample (pure). `total_kib` is the
/// node info's memory, used when the driver gives only free memory.
pub fn load(prev: Option<&NodeSample>, now: &NodeSample, total_kib: u64) -> NodeLoad {
    let cpu_percent = match (prev.and_then(|p| p.cpu), now.cpu) {
        (Some(a), Some(b)) => {
            let busy = |t: &NodeCpuTimes| t.kernel.saturating_add(t.user);
            let all = |t: &NodeCpuTimes| busy(t).saturating_add(t.idle).saturating_add(t.iowait);
            let d_all = all(&b).saturating_sub(all(&a));
            let d_busy = busy(&b).saturating_sub(busy(&a));
            (d_all > 0).then(|| (d_busy as f64 / d_all as f64 * 100.0).clamp(0.0, 100.0))
        }
        _ => None,
    };
    let (memory_used_kib, memory_total_kib) = match (now.memory, now.free_bytes) {
        (Some(m), _) if m.total > 0 => {
            let spare = m.free.saturating_add(m.buffers).saturating_add(m.cached);
            (Some(m.total.saturating_sub(spare)), Some(m.total))
        }
        (_, Some(free)) if total_kib > 0 => {
            (Some(total_kib.saturating_sub(free / 1024)), Some(total_kib))
        }
        _ => (None, (total_kib > 0).then_some(total_kib)),
    };
    NodeLoad {
        cpu_percent,
        memory_used_kib,
        memory_total_kib,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(cpu: Option<(u64, u64, u64, u64)>, mem: Option<(u64, u64, u64, u64)>) -> NodeSample {
        NodeSample {
            at: Instant::now(),
            cpu: cpu.map(|(kernel, user, idle, iowait)| NodeCpuTimes {
                kernel,
                user,
                idle,
                iowait,
            }),
            memory: mem.map(|(total, free, buffers, cached)| NodeMemory {
                total,
                free,
                buffers,
                cached,
            }),
            free_bytes: None,
        }
    }

    #[test]
    fn versions() {
        assert_eq!(version_text(9_000_000), "9.0.0");
        assert_eq!(version_text(7_002_011), "7.2.11");
    }

    #[test]
    fn cpu_share_from_deltas() {
        let a = at(Some((100, 100, 800, 0)), None);
        let mut b = at(Some((150, 150, 1100, 100)), None);
        b.at = a.at + Duration::from_secs(1);
        // busy +100 of +500 in all.
        let l = load(Some(&a), &b, 0);
        assert_eq!(l.cpu_percent, Some(20.0));
        // No previous sample, or no time passed: no figure.
        assert_eq!(load(None, &b, 0).cpu_percent, None);
        assert_eq!(load(Some(&b), &b, 0).cpu_percent, None);
    }

    #[test]
    fn memory_in_use_leaves_out_cache() {
        let s = at(None, Some((1000, 200, 100, 300)));
        let l = load(None, &s, 0);
        assert_eq!(l.memory_used_kib, Some(400));
        assert_eq!(l.memory_total_kib, Some(1000));
    }

    #[test]
    fn memory_from_free_bytes_when_no_stats() {
        let mut s = at(None, None);
        s.free_bytes = Some(1024 * 1024);
        let l = load(None, &s, 4096);
        assert_eq!(l.memory_used_kib, Some(3072));
        assert_eq!(load(None, &at(None, None), 0), NodeLoad::default());
    }
}
