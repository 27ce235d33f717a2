//! The host's USB and PCI devices (libvirt's node devices), as a person chooses one to
//! give to a guest: what it is (vendor and product, by name where the host's ID
//! database has them), where it is (USB bus and device number, PCI address), and which
//! host driver holds it.

use std::fmt;

use virt::connect::Connect;

use super::{call, child, child_text, optional_list, parse_xml};
use crate::virt::domain_xml::devices::HostdevSource;
use crate::virt::error::VirtError;

/// A vendor's or product's id (`0x046d`) and its name, when the host knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedId {
    pub id: String,
    pub name: Option<String>,
}

/// Where a host device sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAddress {
    /// A USB device: its bus and its device number on that bus (these change when the
    /// device is plugged in again).
    Usb { bus: u32, device: u32 },
    /// A PCI function.
    Pci {
        domain: u32,
        bus: u32,
        slot: u32,
        function: u32,
    },
}

impl fmt::Display for HostAddress {
    /// `USB 1:4`, or the PCI address as lspci writes it (`0000:00:1f.2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HostAddress::Usb { bus, device } => write!(f, "USB {bus}:{device}"),
            HostAddress::Pci {
                domain,
                bus,
                slot,
                function,
            } => write!(f, "{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"),
        }
    }
}

/// One USB device or PCI function of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDevice {
    /// libvirt's name for it (`usb_1_4`, `pci_0000_00_1f_2`).
    pub name: String,
    pub address: HostAddress,
    pub vendor: Option<NamedId>,
    pub product: Option<NamedId>,
    /// The host driver bound to it (`usb-storage`, `vfio-pci`), if any.
    pub driver: Option<String>,
    /// A PCI function's IOMMU group: all of a group go to a guest together.
    pub iommu_group: Option<u32>,
}

impl HostDevice {
    /// True for a USB device.
    pub fn is_usb(&self) -> bool {
        matches!(self.address, HostAddress::Usb { .. })
    }

    /// "SanDisk Corp. Cruzer Micro 256/512MB Flash Drive", else the ids
    /// ("0781:5151"), else the address.
    pub fn description(&self) -> String {
        let names: Vec<&str> = [&self.vendor, &self.product]
            .into_iter()
            .filter_map(|v| v.as_ref().and_then(|v| v.name.as_deref()))
            .collect();
        if !names.is_empty() {
            return names.join(" ");
        }
        match (&self.vendor, &self.product) {
            (Some(v), Some(p)) => format!("{}:{}", bare_hex(&v.id), bare_hex(&p.id)),
            _ => self.address.to_string(),
        }
    }

    /// How a `<hostdev>` names this device. A USB device by vendor and product, which
    /// stay the same when it is plugged in again, plus its bus and device number when
    /// `same_model_present` (another device of the same vendor and product is plugged
    /// in: the ids alone would not say which); a PCI function by its address.
    pub fn source(&self, same_model_present: bool) -> HostdevSource {
        match self.address {
            HostAddress::Usb { bus, device } => {
                let at = same_model_present || self.vendor.is_none() || self.product.is_none();
                HostdevSource::Usb {
                    vendor: self.vendor.as_ref().map(|v| v.id.clone()),
                    product: self.product.as_ref().map(|p| p.id.clone()),
                    bus: at.then(|| bus.to_string()),
                    device: at.then(|| device.to_string()),
                }
            }
            HostAddress::Pci {
                domain,
                bus,
                slot,
                function,
            } => HostdevSource::Pci {
                domain: format!("0x{domain:04x}"),
                bus: format!("0x{bus:02x}"),
                slot: format!("0x{slot:02x}"),
                function: format!("0x{function:x}"),
            },
        }
    }

    /// True when the `<hostdev>` source `source` names this device.
    pub fn is_named_by(&self, source: &HostdevSource) -> bool {
        match (source, self.address) {
            (
                HostdevSource::Usb {
                    vendor,
                    product,
                    bus,
                    device,
                },
                HostAddress::Usb {
                    bus: my_bus,
                    device: my_device,
                },
            ) => {
                let id_matches = |want: &Option<String>, have: &Option<NamedId>| match want {
                    None => true,
                    Some(w) => have.as_ref().is_some_and(|h| same_number(w, &h.id)),
                };
                let number_matches = |want: &Option<String>, have: u32| match want {
                    None => true,
                    Some(w) => parse_number(w) == Some(have),
                };
                (vendor.is_some() || bus.is_some())
                    && id_matches(vendor, &self.vendor)
                    && id_matches(product, &self.product)
                    && number_matches(bus, my_bus)
                    && number_matches(device, my_device)
            }
            (
                HostdevSource::Pci {
                    domain,
                    bus,
                    slot,
                    function,
                },
                HostAddress::Pci {
                    domain: d,
                    bus: b,
                    slot: s,
                    function: f,
                },
            ) => {
                parse_number(domain) == Some(d)
                    && parse_number(bus) == Some(b)
                    && parse_number(slot) == Some(s)
                    && parse_number(function) == Some(f)
            }
            _ => false,
        }
    }
}

/// `0x046d` → `046d`.
fn bare_hex(id: &str) -> &str {
    id.trim_start_matches("0x").trim_start_matches("0X")
}

/// A number as libvirt writes it in XML: `0x1f` (hex) or `31` (decimal).
fn parse_number(text: &str) -> Option<u32> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Ids compared as numbers (`0x46d` and `0x046d` are the same vendor).
fn same_number(a: &str, b: &str) -> bool {
    match (
        u32::from_str_radix(bare_hex(a), 16),
        u32::from_str_radix(bare_hex(b), 16),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// Reads a node device's XML: a USB device or PCI function, else `None` (USB
/// interfaces, storage, network and the host's other kinds).
pub fn parse_node_device(xml: &str) -> Result<Option<HostDevice>, VirtError> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    let name = child_text(root, "name").unwrap_or_default();
    let driver = child(root, "driver").and_then(|d| child_text(d, "name"));
    let Some(cap) = root.children().find(|n| {
        n.has_tag_name("capability")
            && matches!(n.attribute("type"), Some("usb_device") | Some("pci"))
    }) else {
        return Ok(None);
    };
    let number = |tag: &str| child_text(cap, tag).and_then(|t| parse_number(&t));
    let named = |tag: &str| {
        child(cap, tag).and_then(|n| {
            Some(NamedId {
                id: n.attribute("id")?.to_owned(),
                name: n
                    .text()
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty()),
            })
        })
    };
    let address = if cap.attribute("type") == Some("usb_device") {
        HostAddress::Usb {
            bus: number("bus").unwrap_or(0),
            device: number("device").unwrap_or(0),
        }
    } else {
        HostAddress::Pci {
            domain: number("domain").unwrap_or(0),
            bus: number("bus").unwrap_or(0),
            slot: number("slot").unwrap_or(0),
            function: number("function").unwrap_or(0),
        }
    };
    Ok(Some(HostDevice {
        name,
        address,
        vendor: named("vendor"),
        product: named("product"),
        driver,
        iommu_group: child(cap, "iommuGroup")
            .and_then(|g| g.attribute("number"))
            .and_then(parse_number),
    }))
}

/// True for the host's own USB root hubs (vendor 0x1d6b, the Linux Foundation): they
/// are the host controller's, not something to give to a guest.
fn is_root_hub(device: &HostDevice) -> bool {
    device.is_usb()
        && device
            .vendor
            .as_ref()
            .is_some_and(|v| same_number(&v.id, "0x1d6b"))
}

/// The host's USB devices (without its root hubs) and PCI functions, USB first, each
/// in address order. Empty where the driver has no node devices.
pub fn list(conn: &Connect) -> Result<Vec<HostDevice>, VirtError> {
    let flags = virt::sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV
        | virt::sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV;
    let mut out = Vec::new();
    for dev in optional_list(
        "virConnectListAllNodeDevices",
        conn.list_all_node_devices(flags),
    )? {
        // A device unplugged while listed has no XML any more.
        let Ok(xml) = call("virNodeDeviceGetXMLDesc", dev.xml_desc(0)) else {
            continue;
        };
        if let Some(device) = parse_node_device(&xml)? {
            if !is_root_hub(&device) {
                out.push(device);
            }
        }
    }
    out.sort_by_key(|d| match d.address {
        HostAddress::Usb { bus, device } => (0, bus, device, 0, 0),
        HostAddress::Pci {
            domain,
            bus,
            slot,
            function,
        } => (1, domain, bus, slot, function),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USB: &str = "<device>
  <name>usb_device_781_5151_2004453082054CA1BEEE</name>
  <parent>usb_device_1d6b_2_0000_00_1a_7</parent>
  <driver><name>usb-storage</name></driver>
  <capability type='usb_device'>
    <bus>1</bus>
    <device>4</device>
    <product id='0x5151'>Cruzer Micro 256/512MB Flash Drive</product>
    <vendor id='0x0781'>SanDisk Corp.</vendor>
  </capability>
</device>";

    const PCI: &str = "<device>
  <name>pci_1180_476</name>
  <driver><name>yenta_cardbus</name></driver>
  <capability type='pci'>
    <domain>1</domain><bus>21</bus><slot>10</slot><function>5</function>
    <product id='0x0476'>RL5c476 II</product>
    <vendor id='0x1180'>Ricoh Co Ltd</vendor>
    <iommuGroup number='3'><address domain='0x0001' bus='0x15' slot='0x0a' function='0x5'/></iommuGroup>
  </capability>
</device>";

    #[test]
    fn reads_a_usb_device() {
        let d = parse_node_device(USB).unwrap().unwrap();
        assert_eq!(d.address, HostAddress::Usb { bus: 1, device: 4 });
        assert_eq!(
            d.description(),
            "SanDisk Corp. Cruzer Micro 256/512MB Flash Drive"
        );
        assert_eq!(d.driver.as_deref(), Some("usb-storage"));
        assert_eq!(d.address.to_string(), "USB 1:4");
        let by_ids = d.source(false);
        assert_eq!(
            by_ids,
            HostdevSource::Usb {
                vendor: Some("0x0781".into()),
                product: Some("0x5151".into()),
                bus: None,
                device: None,
            }
        );
        assert!(d.is_named_by(&by_ids));
        // Two of the same model: the address says which.
        let both = d.source(true);
        assert!(
            matches!(&both, HostdevSource::Usb { bus: Some(b), device: Some(n), .. } if b == "1" && n == "4")
        );
        assert!(d.is_named_by(&both));
        assert!(!d.is_named_by(&HostdevSource::Usb {
            vendor: Some("0x781".into()),
            product: Some("0x5151".into()),
            bus: Some("2".into()),
            device: None,
        }));
    }

    #[test]
    fn reads_a_pci_function() {
        let d = parse_node_device(PCI).unwrap().unwrap();
        assert_eq!(d.address.to_string(), "0001:15:0a.5");
        assert_eq!(d.iommu_group, Some(3));
        let source = d.source(false);
        assert_eq!(
            source,
            HostdevSource::Pci {
                domain: "0x0001".into(),
                bus: "0x15".into(),
                slot: "0x0a".into(),
                function: "0x5".into(),
            }
        );
        assert!(d.is_named_by(&source));
        assert!(d.is_named_by(&HostdevSource::Pci {
            domain: "0x1".into(),
            bus: "21".into(),
            slot: "0xA".into(),
            function: "5".into(),
        }));
        assert!(!d.is_named_by(&HostdevSource::Pci {
            domain: "0x0001".into(),
            bus: "0x15".into(),
            slot: "0x0a".into(),
            function: "0x4".into(),
        }));
    }

    #[test]
    fn other_kinds_and_root_hubs_are_not_offered() {
        let storage = "<device><name>block_sda</name><capability type='storage'><block>/dev/sda</block></capability></device>";
        assert_eq!(parse_node_device(storage).unwrap(), None);
        let hub = parse_node_device(&USB.replace("0x0781", "0x1d6b"))
            .unwrap()
            .unwrap();
        assert!(is_root_hub(&hub));
        let unnamed = parse_node_device(
            &USB.replace("SanDisk Corp.", "")
                .replace("Cruzer Micro 256/512MB Flash Drive", ""),
        )
        .unwrap()
        .unwrap();
        assert_eq!(unnamed.description(), "0781:5151");
    }
}
