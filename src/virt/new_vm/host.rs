//! What the wizard needs to know about a host before it can offer choices: its
//! capabilities, existing names, storage pools and ISO volumes (read in one go on the
//! connection's worker); its virtual networks, and starting one.

use virt::connect::Connect;

use crate::virt::capabilities::{self, DomainCapabilities, HostCapabilities};
use crate::virt::error::{Result, VirtError};

/// A storage pool as the wizard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// Name.
    pub name: String,
    /// Running.
    pub active: bool,
    /// Free bytes (0 when inactive).
    pub available: u64,
    /// Its volumes whose names end in `.iso` (install media).
    pub iso_volumes: Vec<String>,
}

/// Everything the wizard reads from a host.
#[derive(Debug, Clone)]
pub struct HostInfo {
    /// Capabilities.
    pub caps: HostCapabilities,
    /// Domain capabilities for the default architecture/type/machine, when the driver
    /// has them.
    pub domcaps: Option<DomainCapabilities>,
    /// Names of all defined and running domains.
    pub domain_names: Vec<String>,
    /// Storage pools.
    pub pools: Vec<PoolInfo>,
}

/// A virtual network as the wizard offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Name.
    pub name: String,
    /// Running: a VM can be plugged into it now.
    pub active: bool,
}

impl HostInfo {
    /// The architecture a new VM gets by default (the host's own when it can run it).
    pub fn default_arch(&self) -> String {
        self.caps
            .hvm_arches()
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}

/// Reads the host (blocking: run it on the worker).
pub fn gather(conn: &Connect) -> Result<HostInfo> {
    let caps = capabilities::host_capabilities(conn)?;
    let arch = caps.hvm_arches().into_iter().next().unwrap_or_default();
    let domcaps = match (caps.best_domain_type(&arch), caps.default_machine(&arch)) {
        (Some(t), Some(m)) => capabilities::domain_capabilities(conn, &t, &arch, &m)?,
        _ => None,
    };
    let domain_names = domain_names(conn)?;
    let pools = pools(conn)?;
    Ok(HostInfo {
        caps,
        domcaps,
        domain_names,
        pools,
    })
}

/// The storage pools, "default" first (blocking: run it on the worker).
pub fn pools(conn: &Connect) -> Result<Vec<PoolInfo>> {
    let mut pools = Vec::new();
    // Drivers without storage or networks (the embedded QEMU driver) have none.
    for p in optional(
        conn.list_all_storage_pools(0),
        "virConnectListAllStoragePools",
    )? {
        let name = p.name().unwrap_or_default();
        let active = p.is_active().unwrap_or(false);
        let available = if active {
            p.info().map(|i| i.available).unwrap_or(0)
        } else {
            0
        };
        let iso_volumes = if active {
            let mut v: Vec<String> = p
                .list_volumes()
                .unwrap_or_default()
                .into_iter()
                .filter(|n| n.to_ascii_lowercase().ends_with(".iso"))
                .collect();
            v.sort();
            v
        } else {
            Vec::new()
        };
        pools.push(PoolInfo {
            name,
            active,
            available,
            iso_volumes,
        });
    }
    pools.sort_by(|a, b| {
        (a.name != "default")
            .cmp(&(b.name != "default"))
            .then(a.name.cmp(&b.name))
    });
    Ok(pools)
}

/// Names of all defined and running domains.
pub fn domain_names(conn: &Connect) -> Result<Vec<String>> {
    Ok(conn
        .list_all_domains(0)
        .map_err(lib_err("virConnectListAllDomains"))?
        .iter()
        .filter_map(|d| d.name().ok())
        .collect())
}

/// The virtual networks, active ones first, then by name.
pub fn networks(conn: &Connect) -> Result<Vec<NetworkInfo>> {
    let mut nets: Vec<NetworkInfo> =
        optional(conn.list_all_networks(0), "virConnectListAllNetworks")?
            .iter()
            .filter_map(|n| {
                Some(NetworkInfo {
                    name: n.name().ok()?,
                    active: n.is_active().ok()?,
                })
            })
            .collect();
    nets.sort_by(|a, b| b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)));
    Ok(nets)
}

/// Starts the inactive virtual network `name` (libvirt's error when it cannot).
pub fn start_network(conn: &Connect, name: &str) -> Result<()> {
    let net = conn
        .lookup_network_by_name(name)
        .map_err(lib_err("virNetworkLookupByName"))?;
    if net.is_active().unwrap_or(false) {
        return Ok(());
    }
    net.create().map_err(lib_err("virNetworkCreate"))?;
    Ok(())
}

/// Domain capabilities for another architecture/type/machine choice.
pub fn domcaps(
    conn: &Connect,
    virttype: &str,
    arch: &str,
    machine: &str,
) -> Result<Option<DomainCapabilities>> {
    capabilities::domain_capabilities(conn, virttype, arch, machine)
}

/// A list that a driver may not implement: "not supported" is an empty list.
fn optional<T>(
    r: std::result::Result<Vec<T>, virt::error::Error>,
    op: &'static str,
) -> Result<Vec<T>> {
    match r {
        Ok(v) => Ok(v),
        Err(e) if e.code().to_raw() == virt::sys::VIR_ERR_NO_SUPPORT => Ok(Vec::new()),
        Err(e) => Err(lib_err(op)(e)),
    }
}

fn lib_err(op: &'static str) -> impl Fn(virt::error::Error) -> VirtError {
    move |e| VirtError::Libvirt {
        op,
        code: e.code().to_raw() as i32,
        message: e.message().to_owned(),
    }
}
