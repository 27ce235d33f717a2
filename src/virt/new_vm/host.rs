//! What the wizard needs to know about a host before it can offer choices: its
//! capabilities and the names in use (read in one go on the connection's worker). Its
//! pools, volumes and networks come from the host model (`ConnectionObject::host()`),
//! which the host page shares.

use virt::connect::Connect;

use crate::virt::capabilities::{self, DomainCapabilities, HostCapabilities};
use crate::virt::error::{Result, VirtError};

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
    Ok(HostInfo {
        caps,
        domcaps,
        domain_names,
    })
}

/// Names of all defined and running domains.
pub fn domain_names(conn: &Connect) -> Result<Vec<String>> {
    Ok(conn
        .list_all_domains(0)
        .map_err(VirtError::from_crate("virConnectListAllDomains"))?
        .iter()
        .filter_map(|d| d.name().ok())
        .collect())
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
