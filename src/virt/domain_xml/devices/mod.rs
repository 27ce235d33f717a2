//! Devices: kinds, stable keys, the generic device operations of [`DomainXml`] and
//! the typed views of each kind Vireo edits.
//!
//! A device is named by a [`DeviceKey`] rather than by its position, so an edit meant
//! for "the disk vdb" or "the NIC 52:54:00:12:34:56" reaches that device even when the
//! document changed around it, and a key read from the persistent XML finds the same
//! device in the live XML.

mod chardev;
mod disk;
mod graphics;
mod hostdev;
mod interface;
mod misc;
mod switches;

use std::fmt;

pub use chardev::CharDevice;
pub use disk::{Disk, DiskSource, NetworkHost};
pub use graphics::{Graphics, Listen, Video};
pub use hostdev::{Hostdev, HostdevSource};
pub use interface::{random_mac, Interface, InterfaceSource};
pub use misc::{Controller, Filesystem, Input, Memballoon, Rng, Sound, Tpm, Watchdog};
pub use switches::{RNG_DEFAULT_SOURCE, SPICE_AGENT_CHANNEL};

use super::document::{NodeId, XmlDoc};
use super::domain::DomainXml;
use super::error::{DomainXmlError, Result};
use super::fields::number;
use super::fragment::NewElement;
use super::order;

macro_rules! kinds {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The kinds of device libvirt puts in `<devices>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DeviceKind {
            $(#[doc = concat!("`<", $name, ">`")] $variant,)*
        }

        impl DeviceKind {
            /// Every kind, in libvirt's order.
            pub const ALL: &'static [DeviceKind] = &[$(DeviceKind::$variant),*];

            /// The element name.
            pub fn element(self) -> &'static str {
                match self {
                    $(DeviceKind::$variant => $name,)*
                }
            }

            /// The kind of an element named `name`.
            pub fn from_element(name: &str) -> Option<DeviceKind> {
                match name {
                    $($name => Some(DeviceKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    Disk => "disk",
    Controller => "controller",
    Lease => "lease",
    Filesystem => "filesystem",
    Interface => "interface",
    Smartcard => "smartcard",
    Serial => "serial",
    Parallel => "parallel",
    Console => "console",
    Channel => "channel",
    Input => "input",
    Tpm => "tpm",
    Graphics => "graphics",
    Sound => "sound",
    Audio => "audio",
    Video => "video",
    Hostdev => "hostdev",
    Redirdev => "redirdev",
    Redirfilter => "redirfilter",
    Hub => "hub",
    Watchdog => "watchdog",
    Memballoon => "memballoon",
    Rng => "rng",
    Panic => "panic",
    Shmem => "shmem",
    Memory => "memory",
    Iommu => "iommu",
    Vsock => "vsock",
    Crypto => "crypto",
    Pstore => "pstore",
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.element())
    }
}

/// Names one device of a document. The strongest identity it carries decides:
/// the target (disks, filesystems) or the MAC address (NICs) always; the alias and
/// the bus address when the document has aliases or addresses for that kind of device
/// (the persistent XML has no automatic aliases); the position among devices of the
/// kind last.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceKey {
    pub kind: DeviceKind,
    /// 0-based position among the devices of this kind.
    pub index: usize,
    /// `<alias name>`.
    pub alias: Option<String>,
    /// A disk's `<target dev>`, a filesystem's `<target dir>`.
    pub target: Option<String>,
    /// A NIC's MAC address (lower case).
    pub mac: Option<String>,
    /// The `<address>` as one normalised string (see [`address_key`]).
    pub address: Option<String>,
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.target, &self.mac, &self.alias) {
            (Some(t), _, _) => write!(f, "{} {t}", self.kind),
            (_, Some(m), _) => write!(f, "{} {m}", self.kind),
            (_, _, Some(a)) => write!(f, "{} {a}", self.kind),
            _ => write!(f, "{} #{}", self.kind, self.index + 1),
        }
    }
}

/// A typed view of one kind (or family) of device: read from an element, written back
/// by difference, built anew for adding.
pub trait DeviceView: Clone + PartialEq + fmt::Debug {
    /// The kinds of element this view reads (`CharDevice` covers four).
    fn kinds() -> &'static [DeviceKind];
    /// The kind of this device.
    fn kind(&self) -> DeviceKind;
    /// Reads the view from a device element.
    fn read(doc: &XmlDoc, el: NodeId) -> Self;
    /// Writes the fields that differ from `old` (what [`DeviceView::read`] gave).
    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()>;
    /// The element for a new device.
    fn to_element(&self) -> NewElement;
    /// Fills in what a new device needs from the domain (a free target, a MAC...).
    fn complete(&mut self, _domain: &mut DomainXml) -> Result<()> {
        Ok(())
    }
}

/// A bus address written as one comparable string: its attributes sorted, numbers
/// in decimal (`0x03` and `3` are the same slot).
pub fn address_key(doc: &XmlDoc, address: NodeId) -> String {
    let mut parts: Vec<(String, String)> = doc
        .attrs(address)
        .map(|(k, v)| {
            let v = number(v).map_or_else(|| v.to_owned(), |n| n.to_string());
            (k.to_owned(), v)
        })
        .collect();
    parts.sort();
    parts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One of the identities a device can be named by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Identity {
    Alias,
    Target,
    Mac,
    Address,
}

impl Identity {
    /// This identity of element `el`.
    fn of(self, doc: &XmlDoc, el: NodeId) -> Option<String> {
        match self {
            Identity::Alias => doc.get(el, "alias", "name"),
            Identity::Target => match doc.name(el) {
                "disk" => doc.get(el, "target", "dev"),
                "filesystem" => doc.get(el, "target", "dir"),
                _ => None,
            },
            Identity::Mac if doc.name(el) == "interface" => doc
                .get(el, "mac", "address")
                .map(|m| m.to_ascii_lowercase()),
            Identity::Mac => None,
            Identity::Address => doc.child(el, "address").map(|a| address_key(doc, a)),
        }
    }

    /// This identity as `key` carries it.
    fn in_key(self, key: &DeviceKey) -> Option<&String> {
        match self {
            Identity::Alias => key.alias.as_ref(),
            Identity::Target => key.target.as_ref(),
            Identity::Mac => key.mac.as_ref(),
            Identity::Address => key.address.as_ref(),
        }
    }
}

impl DomainXml {
    /// `<devices>`, if the domain has one.
    pub fn devices_element(&self) -> Option<NodeId> {
        self.doc.child(self.root(), "devices")
    }

    /// The elements of the devices of `kind`, in document order.
    pub fn device_elements(&self, kind: DeviceKind) -> Vec<NodeId> {
        self.devices_element().map_or_else(Vec::new, |d| {
            self.doc.children_named(d, kind.element()).collect()
        })
    }

    /// The key of a device element.
    pub fn key_of(&self, el: NodeId) -> Option<DeviceKey> {
        if self.doc.namespace(el).is_some() {
            return None;
        }
        let kind = DeviceKind::from_element(self.doc.name(el))?;
        let index = self.device_elements(kind).iter().position(|&e| e == el)?;
        Some(self.key_at(el, kind, index))
    }

    fn key_at(&self, el: NodeId, kind: DeviceKind, index: usize) -> DeviceKey {
        let d = &self.doc;
        DeviceKey {
            kind,
            index,
            alias: Identity::Alias.of(d, el),
            target: Identity::Target.of(d, el),
            mac: Identity::Mac.of(d, el),
            address: Identity::Address.of(d, el),
        }
    }

    /// Every device element of the kinds `wanted` accepts, with its key, in document
    /// order, in one pass.
    fn device_keys(&self, wanted: impl Fn(DeviceKind) -> bool) -> Vec<(NodeId, DeviceKey)> {
        let Some(devices) = self.devices_element() else {
            return Vec::new();
        };
        let mut seen = [0usize; DeviceKind::ALL.len()];
        self.doc
            .children(devices)
            .filter(|&el| self.doc.namespace(el).is_none())
            .filter_map(|el| {
                let kind = DeviceKind::from_element(self.doc.name(el))?;
                let slot = DeviceKind::ALL.iter().position(|k| *k == kind)?;
                let index = seen[slot];
                seen[slot] += 1;
                wanted(kind).then(|| (el, self.key_at(el, kind, index)))
            })
            .collect()
    }

    /// Every device, in document order (`<emulator>` and other applications' elements
    /// are not devices).
    pub fn devices(&self) -> Vec<DeviceKey> {
        self.device_keys(|_| true)
            .into_iter()
            .map(|(_, k)| k)
            .collect()
    }

    /// The element `key` names in this document. The identities the key carries
    /// narrow the devices of its kind down in turn (target, MAC, alias, address); when
    /// several remain (a document with two NICs of the same MAC), the key's position
    /// among the devices of its kind picks one.
    pub fn resolve(&self, key: &DeviceKey) -> Result<NodeId> {
        let els = self.device_elements(key.kind);
        let d = &self.doc;
        let not_found = || DomainXmlError::DeviceNotFound {
            kind: key.kind,
            what: key.to_string(),
        };
        let mut candidates: Vec<(usize, NodeId)> = els.iter().copied().enumerate().collect();
        for which in [
            Identity::Target,
            Identity::Mac,
            Identity::Alias,
            Identity::Address,
        ] {
            let Some(wanted) = which.in_key(key) else {
                continue;
            };
            // An alias or address decides only when the document gives them to this
            // kind of device (the persistent XML has no automatic aliases).
            let decides = match which {
                Identity::Alias => els.iter().any(|&e| d.child(e, "alias").is_some()),
                Identity::Address => els.iter().any(|&e| d.child(e, "address").is_some()),
                _ => true,
            };
            if !decides {
                continue;
            }
            candidates.retain(|&(_, e)| which.of(d, e).as_ref() == Some(wanted));
            match candidates.len() {
                0 => return Err(not_found()),
                1 => return Ok(candidates[0].1),
                _ => {}
            }
        }
        if let Some(&(_, el)) = candidates.iter().find(|(i, _)| *i == key.index) {
            return Ok(el);
        }
        match candidates.len() {
            n if n == els.len() || n == 0 => Err(not_found()),
            n => Err(DomainXmlError::AmbiguousDevice {
                kind: key.kind,
                what: key.to_string(),
                count: n,
            }),
        }
    }

    /// Replaces the device `key` names with `xml` (one element, unindented as
    /// [`DomainXml::device_xml`] gives it): restores a device as it was, or applies a
    /// device edited as text. Returns the device's key.
    pub fn replace_device_xml(&mut self, key: &DeviceKey, xml: &str) -> Result<DeviceKey> {
        let el = self.resolve(key)?;
        let id = self.doc.replace_xml(el, xml)?;
        self.key_of(id).ok_or_else(|| {
            DomainXmlError::invalid("device", self.doc.name(id), "not a device libvirt knows")
        })
    }

    /// The device's XML, unindented, as libvirt's attach, update and detach calls take it.
    pub fn device_xml(&self, key: &DeviceKey) -> Result<String> {
        Ok(self.doc.element_xml(self.resolve(key)?))
    }

    /// Reads a device through its typed view.
    pub fn device<T: DeviceView>(&self, key: &DeviceKey) -> Result<T> {
        if !T::kinds().contains(&key.kind) {
            return Err(DomainXmlError::invalid(
                "device kind",
                key.kind.element(),
                "not what this view reads",
            ));
        }
        Ok(T::read(&self.doc, self.resolve(key)?))
    }

    /// Every device the typed view `T` reads, with its key.
    pub fn devices_of<T: DeviceView>(&self) -> Vec<(DeviceKey, T)> {
        self.device_keys(|k| T::kinds().contains(&k))
            .into_iter()
            .map(|(el, k)| (k, T::read(&self.doc, el)))
            .collect()
    }

    /// Writes `new` over the device `key` names, changing only what differs from what
    /// the document holds.
    pub fn update_device<T: DeviceView>(&mut self, key: &DeviceKey, new: &T) -> Result<()> {
        let el = self.resolve(key)?;
        let old = T::read(&self.doc, el);
        if old == *new {
            return Ok(());
        }
        new.write(&old, &mut self.doc, el)
    }

    /// Reads the device `key` names, lets `f` change it, writes the difference back.
    pub fn edit_device<T: DeviceView>(
        &mut self,
        key: &DeviceKey,
        f: impl FnOnce(&mut T),
    ) -> Result<()> {
        let mut dev: T = self.device(key)?;
        f(&mut dev);
        self.update_device(key, &dev)
    }

    /// Adds a device after the others of its kind (in libvirt's device order when it
    /// is the first of its kind), creating `<devices>` if needed; returns its key.
    pub fn add_device<T: DeviceView>(&mut self, dev: &T) -> Result<DeviceKey> {
        let mut dev = dev.clone();
        dev.complete(self)?;
        let el = dev.to_element();
        self.add_device_element(&el)
    }

    /// Adds a device given as an element (see [`DomainXml::add_device`]).
    pub fn add_device_element(&mut self, el: &NewElement) -> Result<DeviceKey> {
        let root = self.root();
        let devices = self.doc.ensure_child(root, "devices")?;
        let at = order::position(&self.doc, devices, &el.name);
        let id = self.doc.insert_element(devices, at, el)?;
        self.key_of(id).ok_or_else(|| {
            DomainXmlError::invalid("device", &el.name, "not a device libvirt knows")
        })
    }

    /// Adds a device given as XML text (a device libvirt or a person wrote).
    pub fn add_device_xml(&mut self, xml: &str) -> Result<DeviceKey> {
        let name = roxmltree::Document::parse(xml)
            .map_err(|e| DomainXmlError::BadFragment(e.to_string()))?
            .root_element()
            .tag_name()
            .name()
            .to_owned();
        if DeviceKind::from_element(&name).is_none() {
            return Err(DomainXmlError::invalid(
                "device",
                &name,
                "not a device libvirt knows",
            ));
        }
        let root = self.root();
        let devices = self.doc.ensure_child(root, "devices")?;
        let at = order::position(&self.doc, devices, &name);
        let id = self.doc.insert_xml(devices, at, xml)?;
        self.key_of(id)
            .ok_or_else(|| DomainXmlError::invalid("device", &name, "not a device libvirt knows"))
    }

    /// Removes a device and returns the XML of what was removed (for libvirt's detach
    /// call). Removing the serial port that libvirt also shows as the first console
    /// removes that console too, as virt-xml does.
    pub fn remove_device(&mut self, key: &DeviceKey) -> Result<Vec<String>> {
        let el = self.resolve(key)?;
        let mut removed = vec![self.doc.element_xml(el)];
        let twin = (key.kind == DeviceKind::Serial)
            .then(|| chardev::console_twin(self, el))
            .flatten();
        self.doc.remove(el)?;
        if let Some(c) = twin {
            removed.push(self.doc.element_xml(c));
            self.doc.remove(c)?;
        }
        Ok(removed)
    }

    /// Per-device boot order (`<boot order>` of disks, NICs, host devices...), lowest
    /// first.
    pub fn boot_order(&self) -> Vec<(DeviceKey, u32)> {
        let mut out: Vec<(DeviceKey, u32)> = self
            .device_keys(|_| true)
            .into_iter()
            .filter_map(|(el, k)| {
                let order = self.doc.get(el, "boot", "order")?.parse().ok()?;
                Some((k, order))
            })
            .collect();
        out.sort_by_key(|(_, o)| *o);
        out
    }

    /// Gives one device boot order `order` as virt-install and virt-xml do: the
    /// `<os><boot dev>` list goes (libvirt refuses both kinds), and devices whose order
    /// collides move down one by one until a gap. `None` removes the device's order.
    pub fn set_device_boot_order(&mut self, key: &DeviceKey, order: Option<u32>) -> Result<()> {
        let el = self.resolve(key)?;
        let Some(order) = order else {
            return self.doc.put(el, "boot", "order", None);
        };
        self.set_boot_devs::<&str>(&[])?;
        let mut next = order;
        for (other, o) in self.boot_order() {
            let other_el = self.resolve(&other)?;
            if other_el == el || o < order {
                continue;
            }
            if o != next {
                break;
            }
            next += 1;
            self.doc.put_num(other_el, "boot", "order", Some(next))?;
        }
        self.doc.put_num(el, "boot", "order", Some(order))
    }

    /// Boots from `devices` in this order, through per-device `<boot order>`: the
    /// listed devices get 1, 2, ...; every other device loses its order, and the
    /// `<os><boot dev>` list goes (libvirt refuses both kinds together).
    pub fn set_boot_order(&mut self, devices: &[DeviceKey]) -> Result<()> {
        let wanted: Vec<NodeId> = devices
            .iter()
            .map(|k| self.resolve(k))
            .collect::<Result<_>>()?;
        let all: Vec<NodeId> = self
            .device_keys(|_| true)
            .into_iter()
            .map(|(el, _)| el)
            .collect();
        if !wanted.is_empty() {
            self.set_boot_devs::<&str>(&[])?;
        }
        for el in all {
            let order = wanted.iter().position(|&w| w == el).map(|p| p as u32 + 1);
            self.doc.put_num(el, "boot", "order", order)?;
        }
        Ok(())
    }
}
