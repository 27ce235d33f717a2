//! The devices whose settings are a handful of attributes: sound, input, TPM, RNG,
//! watchdog, controller, memory balloon; and filesystems (virtiofs).
//!
//! Each of these views is declared as a list of fields, each an optional attribute
//! (or, with the name `#text`, the text) at a path below the device element.

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::domain::DomainXml;
use crate::virt::domain_xml::error::Result;
use crate::virt::domain_xml::fragment::NewElement;

/// Reads one field.
fn get(doc: &XmlDoc, el: NodeId, path: &str, attr: &str) -> Option<String> {
    if attr == "#text" {
        doc.get_text(el, path).filter(|t| !t.is_empty())
    } else {
        doc.get(el, path, attr)
    }
}

/// Writes one field.
fn put(doc: &mut XmlDoc, el: NodeId, path: &str, attr: &str, value: Option<&str>) -> Result<()> {
    if attr == "#text" {
        match (value, doc.at(el, path)) {
            (Some(v), _) => doc.put_text(el, path, Some(v)),
            (None, Some(n)) => {
                doc.set_text(n, "")?;
                doc.prune(n, el)
            }
            (None, None) => Ok(()),
        }
    } else {
        doc.put(el, path, attr, value)
    }
}

/// Builds a new element from `(path, attribute, value)` fields.
fn build(name: &str, fields: &[(&str, &str, Option<&String>)]) -> NewElement {
    fn place(el: &mut NewElement, path: &[&str], attr: &str, value: &str) {
        match path.split_first() {
            None if attr == "#text" => el.text = Some(value.to_owned()),
            None => el.attrs.push((attr.to_owned(), value.to_owned())),
            Some((first, rest)) => {
                let i = match el.children.iter().position(|c| c.name == *first) {
                    Some(i) => i,
                    None => {
                        el.children.push(NewElement::new(*first));
                        el.children.len() - 1
                    }
                };
                place(&mut el.children[i], rest, attr, value);
            }
        }
    }
    let mut el = NewElement::new(name);
    for (path, attr, value) in fields {
        if let Some(v) = value {
            let steps: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            place(&mut el, &steps, attr, v);
        }
    }
    el
}

macro_rules! attr_device {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:ident, $element:literal,
        { $($(#[$fmeta:meta])* $field:ident: ($path:literal, $attr:literal)),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: Option<String>,)*
        }

        impl DeviceView for $name {
            fn kinds() -> &'static [DeviceKind] {
                &[DeviceKind::$kind]
            }

            fn kind(&self) -> DeviceKind {
                DeviceKind::$kind
            }

            fn read(doc: &XmlDoc, el: NodeId) -> Self {
                $name { $($field: get(doc, el, $path, $attr),)* }
            }

            fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
                $(if self.$field != old.$field {
                    put(doc, el, $path, $attr, self.$field.as_deref())?;
                })*
                Ok(())
            }

            fn to_element(&self) -> NewElement {
                build($element, &[$(($path, $attr, self.$field.as_ref())),*])
            }
        }
    };
}

attr_device! {
    /// A `<sound>` card.
    Sound, Sound, "sound", {
        /// `ich9`, `ich6`, `ac97`, `es1370`, `sb16`, `usb`, `ich7`.
        model: ("", "model"),
    }
}

attr_device! {
    /// An `<input>` device.
    Input, Input, "input", {
        /// `tablet`, `mouse`, `keyboard`, `passthrough`, `evdev`.
        input_type: ("", "type"),
        /// `usb`, `ps2`, `virtio`, `xen`.
        bus: ("", "bus"),
    }
}

attr_device! {
    /// A `<tpm>`.
    Tpm, Tpm, "tpm", {
        /// `tpm-tis`, `tpm-crb`, `tpm-spapr`.
        model: ("", "model"),
        /// `emulator` (swtpm) or `passthrough`.
        backend_type: ("backend", "type"),
        /// `1.2` or `2.0`.
        backend_version: ("backend", "version"),
        /// The host TPM of a passthrough backend.
        device_path: ("backend/device", "path"),
    }
}

attr_device! {
    /// An `<rng>`: a random number generator.
    Rng, Rng, "rng", {
        /// `virtio`.
        model: ("", "model"),
        /// `random`, `egd` or `builtin`.
        backend_model: ("backend", "model"),
        /// The host source of a `random` backend (`/dev/urandom`).
        backend_path: ("backend", "#text"),
        /// `<rate bytes>`.
        rate_bytes: ("rate", "bytes"),
        /// `<rate period>` in milliseconds.
        rate_period: ("rate", "period"),
    }
}

attr_device! {
    /// A `<watchdog>`.
    Watchdog, Watchdog, "watchdog", {
        /// `i6300esb`, `ib700`, `diag288`, `itco`.
        model: ("", "model"),
        /// `reset`, `shutdown`, `poweroff`, `pause`, `none`, `dump`, `inject-nmi`.
        action: ("", "action"),
    }
}

attr_device! {
    /// A `<controller>`.
    Controller, Controller, "controller", {
        /// `usb`, `pci`, `scsi`, `sata`, `ide`, `virtio-serial`, `ccid`, `fdc`.
        controller_type: ("", "type"),
        index: ("", "index"),
        /// `qemu-xhci`, `pcie-root-port`, `virtio-scsi`...
        model: ("", "model"),
        /// `ports` of a USB controller.
        ports: ("", "ports"),
    }
}

attr_device! {
    /// The `<memballoon>`.
    Memballoon, Memballoon, "memballoon", {
        /// `virtio` or `none`.
        model: ("", "model"),
        /// `autodeflate`: `on` or `off`.
        autodeflate: ("", "autodeflate"),
        /// `<stats period>` in seconds.
        stats_period: ("stats", "period"),
    }
}

/// A `<filesystem>`: a host directory shared with the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    /// `mount` (a host directory), `file`, `block`...
    pub fs_type: String,
    /// `passthrough`, `mapped`, `squash` (9p only).
    pub accessmode: Option<String>,
    /// `<driver type>`: `virtiofs` or `path` (9p).
    pub driver: Option<String>,
    /// `<source dir>`.
    pub source_dir: Option<String>,
    /// `<target dir>`: the mount tag the guest uses.
    pub target_dir: Option<String>,
    pub readonly: bool,
}

impl Filesystem {
    /// A virtiofs share of `source` under the mount tag `tag`.
    pub fn virtiofs(source: &str, tag: &str) -> Self {
        Filesystem {
            fs_type: "mount".into(),
            accessmode: Some("passthrough".into()),
            driver: Some("virtiofs".into()),
            source_dir: Some(source.into()),
            target_dir: Some(tag.into()),
            readonly: false,
        }
    }
}

impl DeviceView for Filesystem {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Filesystem]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Filesystem
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        Filesystem {
            fs_type: doc.attr(el, "type").unwrap_or("mount").to_owned(),
            accessmode: doc.get(el, "", "accessmode"),
            driver: doc.get(el, "driver", "type"),
            source_dir: doc.get(el, "source", "dir"),
            target_dir: doc.get(el, "target", "dir"),
            readonly: doc.has(el, "readonly"),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.fs_type != old.fs_type {
            doc.set_attr(el, "type", &self.fs_type)?;
        }
        for (path, attr, new, was) in [
            ("", "accessmode", &self.accessmode, &old.accessmode),
            ("driver", "type", &self.driver, &old.driver),
            ("source", "dir", &self.source_dir, &old.source_dir),
            ("target", "dir", &self.target_dir, &old.target_dir),
        ] {
            if new != was {
                doc.put(el, path, attr, new.as_deref())?;
            }
        }
        doc.put_flag(el, "readonly", self.readonly)
    }

    fn to_element(&self) -> NewElement {
        let mut el = build(
            "filesystem",
            &[
                ("", "type", Some(&self.fs_type)),
                ("", "accessmode", self.accessmode.as_ref()),
                ("driver", "type", self.driver.as_ref()),
                ("source", "dir", self.source_dir.as_ref()),
                ("target", "dir", self.target_dir.as_ref()),
            ],
        );
        if self.readonly {
            el = el.child(NewElement::new("readonly"));
        }
        el
    }

    /// virtiofs needs the guest's memory shared with the host: adds
    /// `<memoryBacking><source type='memfd'/><access mode='shared'/>` when the domain
    /// does not share it yet, as virt-manager does.
    fn complete(&mut self, domain: &mut DomainXml) -> Result<()> {
        if self.driver.as_deref() != Some("virtiofs") {
            return Ok(());
        }
        let d = domain.doc_mut();
        let root = d.root();
        if d.get(root, "memoryBacking/access", "mode").as_deref() == Some("shared") {
            return Ok(());
        }
        if d.find("memoryBacking/source").is_none() {
            d.put(root, "memoryBacking/source", "type", Some("memfd"))?;
        }
        d.put(root, "memoryBacking/access", "mode", Some("shared"))
    }
}
