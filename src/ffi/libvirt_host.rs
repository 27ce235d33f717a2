//! libvirt calls about the host that the `virt` crate does not wrap: the node's CPU
//! time and memory counters, the storage pool capabilities, and a virtual network's
//! DHCP leases. Each returns plain Rust values and libvirt's own error text.

use std::ffi::{c_char, c_int, CStr};

use virt::connect::Connect;
use virt::network::Network;
use virt::sys;

use crate::virt::error::{Result, VirtError};
use crate::virt::handles::take_c_string;

/// The host's CPU time since boot, summed over all CPUs, in nanoseconds (libvirt's
/// `kernel`, `user`, `idle` and `iowait` fields; a field the driver does not give is 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCpuTimes {
    /// Time spent in the kernel.
    pub kernel: u64,
    /// Time spent in user space.
    pub user: u64,
    /// Idle time.
    pub idle: u64,
    /// Time waiting for I/O.
    pub iowait: u64,
}

/// The host's memory in KiB (libvirt's `total`, `free`, `buffers` and `cached`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeMemory {
    /// All memory.
    pub total: u64,
    /// Unused memory.
    pub free: u64,
    /// Kernel buffers.
    pub buffers: u64,
    /// Page cache.
    pub cached: u64,
}

fn field_name(raw: &[c_char; 80]) -> String {
    // SAFETY: libvirt NUL-terminates the field names inside the 80-byte array; the
    // slice ends inside the array, so a missing NUL cannot read past it.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(raw.as_ptr().cast(), raw.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The node's CPU time counters, all CPUs together (`virNodeGetCPUStats`).
pub fn node_cpu_times(conn: &Connect) -> Result<NodeCpuTimes> {
    let mut n: c_int = 0;
    // SAFETY: a valid connection; the first call only asks how many fields there are.
    let r = unsafe {
        sys::virNodeGetCPUStats(
            conn.as_ptr(),
            sys::VIR_NODE_CPU_STATS_ALL_CPUS,
            std::ptr::null_mut(),
            &mut n,
            0,
        )
    };
    if r < 0 {
        return Err(VirtError::last("virNodeGetCPUStats"));
    }
    let mut params = vec![
        sys::virNodeCPUStats {
            field: [0; 80],
            value: 0,
        };
        n.max(0) as usize
    ];
    // SAFETY: `params` holds `n` elements, as libvirt was told.
    let r = unsafe {
        sys::virNodeGetCPUStats(
            conn.as_ptr(),
            sys::VIR_NODE_CPU_STATS_ALL_CPUS,
            params.as_mut_ptr(),
            &mut n,
            0,
        )
    };
    if r < 0 {
        return Err(VirtError::last("virNodeGetCPUStats"));
    }
    let mut t = NodeCpuTimes::default();
    for p in params.iter().take(n.max(0) as usize) {
        match field_name(&p.field).as_str() {
            "kernel" => t.kernel = p.value,
            "user" => t.user = p.value,
            "idle" => t.idle = p.value,
            "iowait" => t.iowait = p.value,
            _ => {}
        }
    }
    Ok(t)
}

/// The node's memory figures, all NUMA cells together (`virNodeGetMemoryStats`).
pub fn node_memory(conn: &Connect) -> Result<NodeMemory> {
    let mut n: c_int = 0;
    // SAFETY: a valid connection; the first call only asks how many fields there are.
    let r = unsafe {
        sys::virNodeGetMemoryStats(
            conn.as_ptr(),
            sys::VIR_NODE_MEMORY_STATS_ALL_CELLS,
            std::ptr::null_mut(),
            &mut n,
            0,
        )
    };
    if r < 0 {
        return Err(VirtError::last("virNodeGetMemoryStats"));
    }
    let mut params = vec![
        sys::virNodeMemoryStats {
            field: [0; 80],
            value: 0,
        };
        n.max(0) as usize
    ];
    // SAFETY: `params` holds `n` elements, as libvirt was told.
    let r = unsafe {
        sys::virNodeGetMemoryStats(
            conn.as_ptr(),
            sys::VIR_NODE_MEMORY_STATS_ALL_CELLS,
            params.as_mut_ptr(),
            &mut n,
            0,
        )
    };
    if r < 0 {
        return Err(VirtError::last("virNodeGetMemoryStats"));
    }
    let mut m = NodeMemory::default();
    for p in params.iter().take(n.max(0) as usize) {
        match field_name(&p.field).as_str() {
            "total" => m.total = p.value,
            "free" => m.free = p.value,
            "buffers" => m.buffers = p.value,
            "cached" => m.cached = p.value,
            _ => {}
        }
    }
    Ok(m)
}

/// The storage pool capabilities XML (`virConnectGetStoragePoolCapabilities`).
pub fn storage_pool_capabilities(conn: &Connect) -> Result<String> {
    // SAFETY: a valid connection; the returned string is ours to free.
    unsafe { take_c_string(sys::virConnectGetStoragePoolCapabilities(conn.as_ptr(), 0)) }
        .ok_or_else(|| VirtError::last("virConnectGetStoragePoolCapabilities"))
}

/// One address a network's DHCP server handed out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawLease {
    /// The network's interface (bridge) name.
    pub iface: String,
    /// When the lease ends, seconds since the epoch.
    pub expiry: i64,
    /// True for an IPv6 lease.
    pub ipv6: bool,
    /// The client's MAC address.
    pub mac: String,
    /// The address.
    pub address: String,
    /// The address's prefix length.
    pub prefix: u32,
    /// The name the client gave, if any.
    pub hostname: Option<String>,
    /// The DHCP client id, if any.
    pub client_id: Option<String>,
}

fn opt_str(p: *const c_char) -> Option<String> {
    // SAFETY: libvirt gives NUL-terminated strings or null.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// The DHCP leases of `net` (`virNetworkGetDHCPLeases`).
pub fn dhcp_leases(net: &Network) -> Result<Vec<RawLease>> {
    let mut leases: *mut sys::virNetworkDHCPLeasePtr = std::ptr::null_mut();
    // SAFETY: a valid network; libvirt allocates the array and each lease.
    let n = unsafe { sys::virNetworkGetDHCPLeases(net.as_ptr(), std::ptr::null(), &mut leases, 0) };
    if n < 0 {
        return Err(VirtError::last("virNetworkGetDHCPLeases"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        // SAFETY: libvirt returned `n` valid lease pointers in `leases`; each is read
        // once, then freed with the function libvirt provides for it.
        unsafe {
            let l = *leases.add(i);
            if l.is_null() {
                continue;
            }
            out.push(RawLease {
                iface: opt_str((*l).iface).unwrap_or_default(),
                expiry: (*l).expirytime,
                ipv6: (*l).type_ == sys::VIR_IP_ADDR_TYPE_IPV6 as c_int,
                mac: opt_str((*l).mac).unwrap_or_default(),
                address: opt_str((*l).ipaddr).unwrap_or_default(),
                prefix: (*l).prefix,
                hostname: opt_str((*l).hostname),
                client_id: opt_str((*l).clientid),
            });
            sys::virNetworkDHCPLeaseFree(l);
        }
    }
    if !leases.is_null() {
        // SAFETY: the array itself is malloc'd by libvirt and now holds no live lease.
        unsafe { libc::free(leases.cast()) };
    }
    Ok(out)
}
