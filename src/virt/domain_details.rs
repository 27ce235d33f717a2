//! What a VM's Details pages ask of libvirt beyond reading its XML: the guest's
//! addresses, title and description, saving an edited definition without overwriting
//! a change made meanwhile, one device changed, unplugged or renamed, and a pool
//! volume's disk measured and grown.
//!
//! These calls block (a remote host can take seconds): the model runs them on the
//! connection's worker. They use the `virt` crate's safe API only.

use virt::connect::Connect;
use virt::storage_vol::StorageVol;
use virt::sys;

use super::domain_xml::apply::{self, Affect, Definition};
use super::domain_xml::devices::DiskSource;
use super::domain_xml::DomainXml;
use super::error::{Result, VirtError};

/// Where a guest's address was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    /// The QEMU guest agent inside the guest (knows every interface).
    Agent,
    /// A DHCP lease of one of the host's virtual networks.
    Lease,
    /// The host's ARP table.
    Arp,
}

/// One address of one of the guest's interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAddress {
    /// The interface's name (inside the guest with the agent, else on the host).
    pub interface: String,
    /// Its MAC address, when known.
    pub mac: Option<String>,
    /// The address without its prefix.
    pub address: String,
    /// The prefix length.
    pub prefix: u64,
    /// True for IPv6.
    pub ipv6: bool,
    /// Where it was learnt.
    pub source: AddressSource,
}

/// The addresses of the running domain `uuid`: from the guest agent, else the DHCP
/// leases of the host's networks, else the ARP table (the first that answers with any
/// address). Loopback addresses the agent reports are left out.
pub fn guest_addresses(conn: &Connect, uuid: &str) -> Result<Vec<GuestAddress>> {
    let dom = conn
        .lookup_domain_by_uuid_string(uuid)
        .map_err(VirtError::from_crate("virDomainLookupByUUIDString"))?;
    let sources = [
        (
            sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
            AddressSource::Agent,
        ),
        (
            sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
            AddressSource::Lease,
        ),
        (
            sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
            AddressSource::Arp,
        ),
    ];
    let mut last_error = None;
    let mut any_answered = false;
    for (flag, source) in sources {
        match dom.interface_addresses(flag, 0) {
            Ok(ifaces) => {
                any_answered = true;
                let found: Vec<GuestAddress> = ifaces
                    .into_iter()
                    .flat_map(|i| {
                        let (name, mac) = (i.name, i.hwaddr);
                        i.addrs.into_iter().map(move |a| GuestAddress {
                            interface: name.clone(),
                            mac: mac.clone(),
                            ipv6: a.typed == i64::from(sys::VIR_IP_ADDR_TYPE_IPV6),
                            address: a.addr,
                            prefix: a.prefix,
                            source,
                        })
                    })
                    .filter(|a| !is_loopback(&a.address))
                    .collect();
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            // No agent in the guest, a driver without ARP...: ask the next source.
            Err(e) => last_error = Some(e),
        }
    }
    match last_error {
        // Every source failed: say why the last one did.
        Some(e) if !any_answered => Err(VirtError::from_crate("virDomainInterfaceAddresses")(e)),
        _ => Ok(Vec::new()),
    }
}

fn is_loopback(address: &str) -> bool {
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
}

/// Sets the domain's `<title>` (`description == false`) or `<description>`; an empty
/// text removes it. Running domains change now and in their saved configuration.
pub fn set_text_metadata(conn: &Connect, uuid: &str, description: bool, text: &str) -> Result<()> {
    let dom = conn
        .lookup_domain_by_uuid_string(uuid)
        .map_err(VirtError::from_crate("virDomainLookupByUUIDString"))?;
    let active = dom.is_active().unwrap_or(false);
    let persistent = dom.is_persistent().unwrap_or(true);
    let mut flags = 0;
    if active {
        flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
    }
    if persistent {
        flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
    }
    let kind = if description {
        sys::VIR_DOMAIN_METADATA_DESCRIPTION
    } else {
        sys::VIR_DOMAIN_METADATA_TITLE
    };
    let text = (!text.is_empty()).then_some(text);
    dom.set_metadata(kind as i32, text, None, None, flags)
        .map_err(VirtError::from_crate("virDomainSetMetadata"))
}

/// Why an edited definition was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The saved definition is no longer the one the edit started from (another
    /// client, or Vireo elsewhere, changed it): nothing was written.
    #[error("the virtual machine’s configuration changed meanwhile")]
    ChangedMeanwhile,
    /// libvirt refused (its own message).
    #[error(transparent)]
    Virt(#[from] VirtError),
}

/// Defines `doc` as the persistent configuration of domain `uuid`, if the definition
/// libvirt holds is still the text `doc` was read from; libvirt validates it first.
/// An unchanged document defines nothing. Returns whether anything was defined.
pub fn save_definition(
    conn: &Connect,
    uuid: &str,
    doc: &DomainXml,
) -> std::result::Result<bool, SaveError> {
    if !doc.is_changed() {
        return Ok(false);
    }
    let handle = apply::lookup(conn, uuid)?;
    if handle.xml(Definition::Persistent)? != doc.original() {
        return Err(SaveError::ChangedMeanwhile);
    }
    apply::define(conn, doc)?;
    Ok(true)
}

/// Defines the hand-edited text `xml` as the persistent configuration of domain
/// `uuid`, if the definition libvirt holds is still `original` (the text the edit
/// started from). Returns whether anything was defined.
pub fn save_text(
    conn: &Connect,
    uuid: &str,
    original: &str,
    xml: &str,
) -> std::result::Result<bool, SaveError> {
    if xml == original {
        return Ok(false);
    }
    let handle = apply::lookup(conn, uuid)?;
    if handle.xml(Definition::Persistent)? != original {
        return Err(SaveError::ChangedMeanwhile);
    }
    apply::define_text(conn, xml)?;
    Ok(true)
}

/// Renames the (shut off) domain `uuid`.
pub fn rename(conn: &Connect, uuid: &str, new_name: &str) -> Result<()> {
    apply::lookup(conn, uuid)?.rename(new_name)
}

/// One device change handed to libvirt as the device's XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChange {
    /// Plug it in (hot-plug when `affect.live`).
    Attach,
    /// Change it in place (media, link state).
    Update,
    /// Unplug or remove it.
    Detach,
}

/// Applies `change` to the device `device_xml` of domain `uuid`, where `affect` says.
pub fn change_device(
    conn: &Connect,
    uuid: &str,
    change: DeviceChange,
    device_xml: &str,
    affect: Affect,
) -> Result<()> {
    let handle = apply::lookup(conn, uuid)?;
    match change {
        DeviceChange::Attach => handle.attach_device(device_xml, affect),
        DeviceChange::Update => handle.update_device(device_xml, affect),
        DeviceChange::Detach => handle.detach_device(device_xml, affect),
    }
}

/// Sets domain `uuid`'s current memory (KiB) where `affect` says: on a running VM,
/// now, through its balloon.
pub fn set_current_memory(conn: &Connect, uuid: &str, kib: u64, affect: Affect) -> Result<()> {
    let handle = apply::lookup(conn, uuid)?;
    // One call each: some drivers (the test driver) refuse LIVE and CONFIG together.
    if affect.live {
        handle.set_current_memory(kib, Affect::LIVE)?;
    }
    if affect.config {
        handle.set_current_memory(kib, Affect::CONFIG)?;
    }
    Ok(())
}

/// The host's memory in KiB (`virNodeGetInfo`), the most a guest may be given.
pub fn host_memory_kib(conn: &Connect) -> Result<u64> {
    conn.node_info()
        .map(|i| i.memory)
        .map_err(VirtError::from_crate("virNodeGetInfo"))
}

/// A disk's size, when its image is a volume of one of the host's storage pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSize {
    /// What the guest sees, bytes.
    pub capacity: u64,
    /// What it takes on the host, bytes.
    pub allocation: u64,
}

/// The pool volume behind a disk's `source` (a path libvirt knows as a volume, or a
/// pool and volume name).
fn volume_of(conn: &Connect, source: &DiskSource) -> Result<Option<StorageVol>> {
    let vol = match source {
        DiskSource::File(path) | DiskSource::Block(path) => conn.lookup_storage_vol_by_path(path),
        DiskSource::Volume { pool, volume } => conn
            .lookup_storage_pool_by_name(pool)
            .and_then(|p| p.lookup_storage_vol_by_name(volume)),
        _ => return Ok(None),
    };
    match vol {
        Ok(vol) => Ok(Some(vol)),
        // Not in any pool: its size is not libvirt's to tell or change.
        Err(e) if e.code().to_raw() == sys::VIR_ERR_NO_STORAGE_VOL => Ok(None),
        Err(e) => Err(VirtError::from_crate("virStorageVolLookupByPath")(e)),
    }
}

/// The size of the disk whose image is `source`, `None` when it is no pool volume.
pub fn disk_size(conn: &Connect, source: &DiskSource) -> Result<Option<DiskSize>> {
    let Some(vol) = volume_of(conn, source)? else {
        return Ok(None);
    };
    let info = vol
        .info()
        .map_err(VirtError::from_crate("virStorageVolGetInfo"))?;
    Ok(Some(DiskSize {
        capacity: info.capacity,
        allocation: info.allocation,
    }))
}

/// Grows the disk `target` of domain `uuid`, whose image is the pool volume `source`,
/// to `bytes`: through QEMU while the domain runs (`virDomainBlockResize`, the guest
/// sees it at once), else through its pool (`virStorageVolResize`).
pub fn resize_disk(
    conn: &Connect,
    uuid: &str,
    target: &str,
    source: &DiskSource,
    bytes: u64,
) -> Result<()> {
    let dom = conn
        .lookup_domain_by_uuid_string(uuid)
        .map_err(VirtError::from_crate("virDomainLookupByUUIDString"))?;
    if dom.is_active().unwrap_or(false) {
        return dom
            .block_resize(target, bytes, sys::VIR_DOMAIN_BLOCK_RESIZE_BYTES)
            .map_err(VirtError::from_crate("virDomainBlockResize"));
    }
    let vol = volume_of(conn, source)?.ok_or_else(|| {
        VirtError::InvalidArgument("the disk’s image is no volume of a storage pool".into())
    })?;
    vol.resize(bytes, 0)
        .map_err(VirtError::from_crate("virStorageVolResize"))
}
