//! `<interface>`: network cards.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::domain::DomainXml;
use crate::virt::domain_xml::error::Result;
use crate::virt::domain_xml::fragment::NewElement;

/// Where a NIC is plugged on the host; the interface's `type` follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceSource {
    /// `type='network'`: a libvirt virtual network (`default`).
    Network(String),
    /// `type='bridge'`: a host bridge.
    Bridge(String),
    /// `type='direct'`: macvtap on a host device; `mode` is `vepa`, `bridge`,
    /// `private` or `passthrough`.
    Direct { dev: String, mode: Option<String> },
    /// `type='user'`: QEMU's user-mode networking (no source).
    User,
    /// Any other type, kept as it is.
    Other(String),
}

impl InterfaceSource {
    /// The interface `type`.
    pub fn interface_type(&self) -> &str {
        match self {
            InterfaceSource::Network(_) => "network",
            InterfaceSource::Bridge(_) => "bridge",
            InterfaceSource::Direct { .. } => "direct",
            InterfaceSource::User => "user",
            InterfaceSource::Other(t) => t,
        }
    }

    fn attrs(&self) -> Vec<(&'static str, String)> {
        match self {
            InterfaceSource::Network(n) => vec![("network", n.clone())],
            InterfaceSource::Bridge(b) => vec![("bridge", b.clone())],
            InterfaceSource::Direct { dev, mode } => {
                let mut v = vec![("dev", dev.clone())];
                v.extend(mode.clone().map(|m| ("mode", m)));
                v
            }
            InterfaceSource::User | InterfaceSource::Other(_) => Vec::new(),
        }
    }
}

/// The `<source>` attributes the known source kinds own.
const SOURCE_ATTRS: [&str; 4] = ["network", "bridge", "dev", "mode"];

/// An `<interface>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub source: InterfaceSource,
    /// `<mac address>`.
    pub mac: Option<String>,
    /// `<model type>`: `virtio`, `e1000e`, `rtl8139`...
    pub model: Option<String>,
    /// `<link state>`: `Some(true)` up, `Some(false)` down, `None` libvirt's default (up).
    pub link_up: Option<bool>,
    /// `<boot order>`.
    pub boot_order: Option<u32>,
    /// `<target dev>`: the host-side device name.
    pub target: Option<String>,
    /// `<alias name>` (read only).
    pub alias: Option<String>,
}

impl Interface {
    /// A NIC on the libvirt network `network`, with the given model.
    pub fn on_network(network: &str, model: Option<&str>) -> Self {
        Interface {
            source: InterfaceSource::Network(network.to_owned()),
            mac: None,
            model: model.map(str::to_owned),
            link_up: None,
            boot_order: None,
            target: None,
            alias: None,
        }
    }
}

/// A random locally administered MAC in QEMU's 52:54:00 range.
pub fn random_mac(taken: &[String]) -> String {
    let state = RandomState::new();
    (0u64..)
        .map(|i| {
            let r = state.hash_one((i, std::time::SystemTime::now()));
            format!(
                "52:54:00:{:02x}:{:02x}:{:02x}",
                r as u8,
                (r >> 8) as u8,
                (r >> 16) as u8
            )
        })
        .find(|m| !taken.contains(m))
        .expect("an unused MAC")
}

impl DeviceView for Interface {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Interface]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Interface
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        let src = |a: &str| doc.get(el, "source", a);
        let source = match doc.attr(el, "type").unwrap_or("") {
            "network" => InterfaceSource::Network(src("network").unwrap_or_default()),
            "bridge" => InterfaceSource::Bridge(src("bridge").unwrap_or_default()),
            "direct" => InterfaceSource::Direct {
                dev: src("dev").unwrap_or_default(),
                mode: src("mode"),
            },
            "user" => InterfaceSource::User,
            other => InterfaceSource::Other(other.to_owned()),
        };
        Interface {
            source,
            mac: doc.get(el, "mac", "address"),
            model: doc.get(el, "model", "type"),
            link_up: doc.get(el, "link", "state").map(|s| s != "down"),
            boot_order: doc.get(el, "boot", "order").and_then(|o| o.parse().ok()),
            target: doc.get(el, "target", "dev"),
            alias: doc.get(el, "alias", "name"),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.source != old.source {
            let new_type = self.source.interface_type();
            if new_type != old.source.interface_type() {
                doc.set_attr(el, "type", new_type)?;
            }
            let attrs = self.source.attrs();
            for attr in SOURCE_ATTRS {
                if !attrs.iter().any(|(a, _)| *a == attr) {
                    doc.put(el, "source", attr, None)?;
                }
            }
            for (attr, value) in &attrs {
                doc.put(el, "source", attr, Some(value))?;
            }
        }
        if self.mac != old.mac {
            doc.put(el, "mac", "address", self.mac.as_deref())?;
        }
        if self.model != old.model {
            doc.put(el, "model", "type", self.model.as_deref())?;
        }
        if self.link_up != old.link_up {
            let state = self.link_up.map(|up| if up { "up" } else { "down" });
            doc.put(el, "link", "state", state)?;
        }
        if self.boot_order != old.boot_order {
            doc.put_num(el, "boot", "order", self.boot_order)?;
        }
        if self.target != old.target {
            doc.put(el, "target", "dev", self.target.as_deref())?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let attrs = self.source.attrs();
        let source = (!attrs.is_empty()).then(|| {
            attrs
                .into_iter()
                .fold(NewElement::new("source"), |el, (k, v)| el.attr(k, v))
        });
        NewElement::new("interface")
            .attr("type", self.source.interface_type())
            .child_opt(
                self.mac
                    .clone()
                    .map(|m| NewElement::new("mac").attr("address", m)),
            )
            .child_opt(source)
            .child_opt(
                self.target
                    .clone()
                    .map(|t| NewElement::new("target").attr("dev", t)),
            )
            .child_opt(
                self.model
                    .clone()
                    .map(|m| NewElement::new("model").attr("type", m)),
            )
            .child_opt(
                self.link_up.map(|up| {
                    NewElement::new("link").attr("state", if up { "up" } else { "down" })
                }),
            )
            .child_opt(
                self.boot_order
                    .map(|o| NewElement::new("boot").attr("order", o.to_string())),
            )
    }

    /// Gives the NIC a MAC address of its own, so that the live and the persistent
    /// definitions get the same one (libvirt would pick one per call).
    fn complete(&mut self, domain: &mut DomainXml) -> Result<()> {
        if self.mac.is_none() {
            let taken: Vec<String> = domain
                .devices_of::<Interface>()
                .into_iter()
                .filter_map(|(_, i)| i.mac.map(|m| m.to_ascii_lowercase()))
                .collect();
            self.mac = Some(random_mac(&taken));
        }
        Ok(())
    }
}
