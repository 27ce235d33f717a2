//! Character devices: `<serial>`, `<console>`, `<channel>`, `<parallel>`.

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::domain::DomainXml;
use crate::virt::domain_xml::error::Result;
use crate::virt::domain_xml::fragment::NewElement;

const KINDS: &[DeviceKind] = &[
    DeviceKind::Serial,
    DeviceKind::Console,
    DeviceKind::Channel,
    DeviceKind::Parallel,
];

/// A serial port, console, channel or parallel port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDevice {
    /// Which of the four this is.
    pub kind: DeviceKind,
    /// The host side: `pty`, `file`, `unix`, `tcp`, `spicevmc`, `qemu-vdagent`...
    pub char_type: String,
    /// `<source path>` (file, unix socket, host device).
    pub source_path: Option<String>,
    /// `<target type>`: `isa-serial`, `virtio`, `serial`, `virtio` (channel)...
    pub target_type: Option<String>,
    /// `<target port>`.
    pub target_port: Option<u32>,
    /// `<target name>` of a channel (`org.qemu.guest_agent.0`).
    pub target_name: Option<String>,
    /// `<alias name>` (read only).
    pub alias: Option<String>,
}

impl CharDevice {
    /// A device of `kind` with host side `char_type` and nothing else set.
    pub fn new(kind: DeviceKind, char_type: &str) -> Self {
        CharDevice {
            kind,
            char_type: char_type.to_owned(),
            source_path: None,
            target_type: None,
            target_port: None,
            target_name: None,
            alias: None,
        }
    }
}

impl DeviceView for CharDevice {
    fn kinds() -> &'static [DeviceKind] {
        KINDS
    }

    fn kind(&self) -> DeviceKind {
        self.kind
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        CharDevice {
            kind: DeviceKind::from_element(doc.name(el)).unwrap_or(DeviceKind::Serial),
            char_type: doc.attr(el, "type").unwrap_or("pty").to_owned(),
            source_path: doc.get(el, "source", "path"),
            target_type: doc.get(el, "target", "type"),
            target_port: doc.get(el, "target", "port").and_then(|p| p.parse().ok()),
            target_name: doc.get(el, "target", "name"),
            alias: doc.get(el, "alias", "name"),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.char_type != old.char_type {
            doc.set_attr(el, "type", &self.char_type)?;
        }
        if self.source_path != old.source_path {
            doc.put(el, "source", "path", self.source_path.as_deref())?;
        }
        if self.target_type != old.target_type {
            doc.put(el, "target", "type", self.target_type.as_deref())?;
        }
        if self.target_port != old.target_port {
            doc.put_num(el, "target", "port", self.target_port)?;
        }
        if self.target_name != old.target_name {
            doc.put(el, "target", "name", self.target_name.as_deref())?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let target = [
            self.target_type.is_some(),
            self.target_port.is_some(),
            self.target_name.is_some(),
        ]
        .contains(&true)
        .then(|| {
            NewElement::new("target")
                .attr_opt("type", self.target_type.clone())
                .attr_opt("port", self.target_port.map(|p| p.to_string()))
                .attr_opt("name", self.target_name.clone())
        });
        NewElement::new(self.kind.element())
            .attr("type", &self.char_type)
            .child_opt(
                self.source_path
                    .clone()
                    .map(|p| NewElement::new("source").attr("path", p)),
            )
            .child_opt(target)
    }
}

/// The `<console>` that libvirt writes as a copy of serial port `serial` (a console
/// with target type `serial` on the same port), if there is one.
pub(super) fn console_twin(domain: &DomainXml, serial: NodeId) -> Option<NodeId> {
    let doc = domain.doc();
    let port = doc
        .get(serial, "target", "port")
        .unwrap_or_else(|| "0".into());
    domain
        .device_elements(DeviceKind::Console)
        .into_iter()
        .find(|&c| {
            doc.get(c, "target", "type").as_deref() == Some("serial")
                && doc.get(c, "target", "port").unwrap_or_else(|| "0".into()) == port
        })
}
