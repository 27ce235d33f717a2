//! `<hostdev>`: USB and PCI devices of the host given to the guest.

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::error::Result;
use crate::virt::domain_xml::fields::yes_no;
use crate::virt::domain_xml::fragment::NewElement;

/// Which host device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostdevSource {
    /// A USB device by vendor and product id (`0x046d`), and/or by bus and device
    /// number on the host.
    Usb {
        vendor: Option<String>,
        product: Option<String>,
        bus: Option<String>,
        device: Option<String>,
    },
    /// A PCI function by its host address.
    Pci {
        domain: String,
        bus: String,
        slot: String,
        function: String,
    },
    /// SCSI, mediated devices and the rest: kept as written.
    Other(String),
}

/// A `<hostdev mode='subsystem'>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostdev {
    pub source: HostdevSource,
    /// `managed`: libvirt detaches the device from the host driver itself.
    pub managed: Option<bool>,
    /// `<driver name>` of a PCI device (`vfio`).
    pub driver: Option<String>,
    /// `<boot order>`.
    pub boot_order: Option<u32>,
    /// `<alias name>` (read only).
    pub alias: Option<String>,
}

impl Hostdev {
    /// The host device's `type` attribute.
    pub fn hostdev_type(&self) -> &str {
        match &self.source {
            HostdevSource::Usb { .. } => "usb",
            HostdevSource::Pci { .. } => "pci",
            HostdevSource::Other(t) => t,
        }
    }
}

fn source_children(source: &HostdevSource) -> Vec<NewElement> {
    match source {
        HostdevSource::Usb {
            vendor,
            product,
            bus,
            device,
        } => {
            let mut v = Vec::new();
            v.extend(
                vendor
                    .clone()
                    .map(|id| NewElement::new("vendor").attr("id", id)),
            );
            v.extend(
                product
                    .clone()
                    .map(|id| NewElement::new("product").attr("id", id)),
            );
            if bus.is_some() || device.is_some() {
                v.push(
                    NewElement::new("address")
                        .attr_opt("bus", bus.clone())
                        .attr_opt("device", device.clone()),
                );
            }
            v
        }
        HostdevSource::Pci {
            domain,
            bus,
            slot,
            function,
        } => vec![NewElement::new("address")
            .attr("domain", domain)
            .attr("bus", bus)
            .attr("slot", slot)
            .attr("function", function)],
        HostdevSource::Other(_) => Vec::new(),
    }
}

impl DeviceView for Hostdev {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Hostdev]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Hostdev
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        let src = |path: &str, a: &str| doc.get(el, &format!("source/{path}"), a);
        let source = match doc.attr(el, "type").unwrap_or("") {
            "usb" => HostdevSource::Usb {
                vendor: src("vendor", "id"),
                product: src("product", "id"),
                bus: src("address", "bus"),
                device: src("address", "device"),
            },
            "pci" => HostdevSource::Pci {
                domain: src("address", "domain").unwrap_or_else(|| "0x0000".into()),
                bus: src("address", "bus").unwrap_or_default(),
                slot: src("address", "slot").unwrap_or_default(),
                function: src("address", "function").unwrap_or_else(|| "0x0".into()),
            },
            other => HostdevSource::Other(other.to_owned()),
        };
        Hostdev {
            source,
            managed: doc.attr(el, "managed").and_then(yes_no),
            driver: doc.get(el, "driver", "name"),
            boot_order: doc.get(el, "boot", "order").and_then(|o| o.parse().ok()),
            alias: doc.get(el, "alias", "name"),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.source != old.source {
            if self.hostdev_type() != old.hostdev_type() {
                doc.set_attr(el, "type", self.hostdev_type())?;
            }
            // The source is a small set of child elements: rewrite it whole.
            let children = source_children(&self.source);
            let source = doc.ensure_child(el, "source")?;
            let old_children: Vec<NodeId> = doc.children(source).collect();
            for c in old_children {
                doc.remove(c)?;
            }
            for (i, c) in children.iter().enumerate() {
                doc.insert_element(source, i, c)?;
            }
        }
        if self.managed != old.managed {
            doc.put(
                el,
                "",
                "managed",
                self.managed.map(|m| if m { "yes" } else { "no" }),
            )?;
        }
        if self.driver != old.driver {
            doc.put(el, "driver", "name", self.driver.as_deref())?;
        }
        if self.boot_order != old.boot_order {
            doc.put_num(el, "boot", "order", self.boot_order)?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let source = source_children(&self.source)
            .into_iter()
            .fold(NewElement::new("source"), NewElement::child);
        NewElement::new("hostdev")
            .attr("mode", "subsystem")
            .attr("type", self.hostdev_type())
            .attr_opt(
                "managed",
                self.managed.map(|m| if m { "yes" } else { "no" }),
            )
            .child_opt(
                self.driver
                    .clone()
                    .map(|d| NewElement::new("driver").attr("name", d)),
            )
            .child(source)
            .child_opt(
                self.boot_order
                    .map(|o| NewElement::new("boot").attr("order", o.to_string())),
            )
    }
}
