//! The host's USB devices and PCI functions, as Add Hardware offers them and a host
//! device's page names the device a VM is given.

use super::ConnectionObject;
use crate::virt::host::node_devices;
use crate::virt::VirtError;

pub use crate::virt::host::node_devices::{HostAddress, HostDevice, NamedId};

impl ConnectionObject {
    /// The host's USB devices (without its root hubs) and PCI functions, read on the
    /// connection's worker; empty where the host's driver lists none.
    pub async fn host_devices(&self) -> Result<Vec<HostDevice>, VirtError> {
        self.worker()
            .run(move |st| node_devices::list(st.session()?.conn()))
            .await?
    }
}
