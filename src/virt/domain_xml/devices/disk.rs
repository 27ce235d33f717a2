//! `<disk>`: hard disks, CD-ROM and floppy drives, LUNs.

use super::{DeviceKind, DeviceView};
use crate::virt::domain_xml::document::{NodeId, XmlDoc};
use crate::virt::domain_xml::domain::DomainXml;
use crate::virt::domain_xml::error::{DomainXmlError, Result};
use crate::virt::domain_xml::fragment::NewElement;

/// One `<host>` of a network disk source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkHost {
    pub name: Option<String>,
    pub port: Option<String>,
    pub transport: Option<String>,
    pub socket: Option<String>,
}

/// Where a disk's data lives; the disk's `type` follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskSource {
    /// `type='file'`: an image file on the host.
    File(String),
    /// `type='block'`: a host block device.
    Block(String),
    /// `type='dir'`: a host directory shown as a FAT disk.
    Dir(String),
    /// `type='volume'`: a volume of a libvirt storage pool.
    Volume { pool: String, volume: String },
    /// `type='network'`: NBD, iSCSI, RBD, HTTP...
    Network {
        protocol: String,
        name: Option<String>,
        hosts: Vec<NetworkHost>,
    },
}

impl DiskSource {
    /// The disk `type` this source needs.
    pub fn disk_type(&self) -> &'static str {
        match self {
            DiskSource::File(_) => "file",
            DiskSource::Block(_) => "block",
            DiskSource::Dir(_) => "dir",
            DiskSource::Volume { .. } => "volume",
            DiskSource::Network { .. } => "network",
        }
    }

    /// The `<source>` attributes this source is written with.
    fn attrs(&self) -> Vec<(&'static str, String)> {
        match self {
            DiskSource::File(p) => vec![("file", p.clone())],
            DiskSource::Block(p) => vec![("dev", p.clone())],
            DiskSource::Dir(p) => vec![("dir", p.clone())],
            DiskSource::Volume { pool, volume } => {
                vec![("pool", pool.clone()), ("volume", volume.clone())]
            }
            DiskSource::Network { protocol, name, .. } => {
                let mut v = vec![("protocol", protocol.clone())];
                v.extend(name.clone().map(|n| ("name", n)));
                v
            }
        }
    }

    fn hosts(&self) -> &[NetworkHost] {
        match self {
            DiskSource::Network { hosts, .. } => hosts,
            _ => &[],
        }
    }
}

/// Every `<source>` attribute a source kind owns (what changing the kind removes).
const SOURCE_ATTRS: [&str; 7] = ["file", "dev", "dir", "pool", "volume", "protocol", "name"];

/// A `<disk>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// `type` when there is no source to say it (an empty CD-ROM drive).
    pub disk_type: String,
    /// `disk`, `cdrom`, `floppy` or `lun`.
    pub device: String,
    /// `None`: no medium (an ejected CD-ROM).
    pub source: Option<DiskSource>,
    /// `<driver name>` (`qemu`).
    pub driver_name: Option<String>,
    /// `<driver type>`: the image format (`raw`, `qcow2`).
    pub format: Option<String>,
    /// `<driver cache>`: `none`, `writethrough`, `writeback`, `directsync`, `unsafe`.
    pub cache: Option<String>,
    /// `<driver discard>`: `unmap` or `ignore`.
    pub discard: Option<String>,
    /// `<driver io>`: `native`, `threads`, `io_uring`.
    pub io: Option<String>,
    /// `<target dev>`: `vda`, `sdb`, `hdc`...
    pub target: Option<String>,
    /// `<target bus>`: `virtio`, `sata`, `scsi`, `ide`, `usb`, `fdc`.
    pub bus: Option<String>,
    pub readonly: bool,
    pub shareable: bool,
    /// `<boot order>`.
    pub boot_order: Option<u32>,
    /// `<serial>`: the serial number the guest sees.
    pub serial: Option<String>,
    /// `<alias name>` (read only: libvirt assigns it).
    pub alias: Option<String>,
}

impl Default for Disk {
    fn default() -> Self {
        Disk {
            disk_type: "file".into(),
            device: "disk".into(),
            source: None,
            driver_name: None,
            format: None,
            cache: None,
            discard: None,
            io: None,
            target: None,
            bus: None,
            readonly: false,
            shareable: false,
            boot_order: None,
            serial: None,
            alias: None,
        }
    }
}

impl Disk {
    /// True for a removable medium drive (CD-ROM or floppy).
    pub fn is_removable(&self) -> bool {
        matches!(self.device.as_str(), "cdrom" | "floppy")
    }

    /// The path of a file, block device or directory source.
    pub fn path(&self) -> Option<&str> {
        match &self.source {
            Some(DiskSource::File(p) | DiskSource::Block(p) | DiskSource::Dir(p)) => Some(p),
            _ => None,
        }
    }

    fn effective_type(&self) -> &str {
        self.source
            .as_ref()
            .map_or(&self.disk_type, |s| s.disk_type())
    }
}

fn read_source(doc: &XmlDoc, el: NodeId, disk_type: &str) -> Option<DiskSource> {
    let src = doc.child(el, "source")?;
    let a = |n: &str| doc.attr(src, n).map(str::to_owned);
    match disk_type {
        "file" => a("file").map(DiskSource::File),
        "block" => a("dev").map(DiskSource::Block),
        "dir" => a("dir").map(DiskSource::Dir),
        "volume" => Some(DiskSource::Volume {
            pool: a("pool")?,
            volume: a("volume")?,
        }),
        "network" => Some(DiskSource::Network {
            protocol: a("protocol")?,
            name: a("name"),
            hosts: doc
                .children_named(src, "host")
                .map(|h| {
                    let g = |n: &str| doc.attr(h, n).map(str::to_owned);
                    NetworkHost {
                        name: g("name"),
                        port: g("port"),
                        transport: g("transport"),
                        socket: g("socket"),
                    }
                })
                .collect(),
        }),
        _ => None,
    }
}

fn host_element(h: &NetworkHost) -> NewElement {
    NewElement::new("host")
        .attr_opt("name", h.name.clone())
        .attr_opt("port", h.port.clone())
        .attr_opt("transport", h.transport.clone())
        .attr_opt("socket", h.socket.clone())
}

fn write_source(
    doc: &mut XmlDoc,
    el: NodeId,
    old: Option<&DiskSource>,
    new: Option<&DiskSource>,
) -> Result<()> {
    let same_kind = matches!((old, new), (Some(o), Some(n)) if o.disk_type() == n.disk_type());
    if !same_kind {
        if let Some(src) = doc.child(el, "source") {
            for attr in SOURCE_ATTRS {
                doc.remove_attr(src, attr)?;
            }
            let hosts: Vec<NodeId> = doc.children_named(src, "host").collect();
            for h in hosts {
                doc.remove(h)?;
            }
            doc.prune(src, el)?;
        }
    }
    let Some(new) = new else {
        return Ok(());
    };
    let attrs = new.attrs();
    if let (Some(old), true) = (old, same_kind) {
        for (attr, _) in old.attrs() {
            if !attrs.iter().any(|(a, _)| *a == attr) {
                doc.put(el, "source", attr, None)?;
            }
        }
    }
    for (attr, value) in &attrs {
        doc.put(el, "source", attr, Some(value))?;
    }
    let old_hosts = if same_kind {
        old.map_or(&[][..], |o| o.hosts())
    } else {
        &[]
    };
    if new.hosts() != old_hosts {
        let src = doc.ensure_child(el, "source")?;
        let hosts: Vec<NodeId> = doc.children_named(src, "host").collect();
        for h in hosts {
            doc.remove(h)?;
        }
        for (i, h) in new.hosts().iter().enumerate() {
            doc.insert_element(src, i, &host_element(h))?;
        }
    }
    Ok(())
}

impl DeviceView for Disk {
    fn kinds() -> &'static [DeviceKind] {
        &[DeviceKind::Disk]
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Disk
    }

    fn read(doc: &XmlDoc, el: NodeId) -> Self {
        let disk_type = doc.attr(el, "type").unwrap_or("file").to_owned();
        Disk {
            source: read_source(doc, el, &disk_type),
            device: doc.attr(el, "device").unwrap_or("disk").to_owned(),
            disk_type,
            driver_name: doc.get(el, "driver", "name"),
            format: doc.get(el, "driver", "type"),
            cache: doc.get(el, "driver", "cache"),
            discard: doc.get(el, "driver", "discard"),
            io: doc.get(el, "driver", "io"),
            target: doc.get(el, "target", "dev"),
            bus: doc.get(el, "target", "bus"),
            readonly: doc.has(el, "readonly"),
            shareable: doc.has(el, "shareable"),
            boot_order: doc.get(el, "boot", "order").and_then(|o| o.parse().ok()),
            serial: doc.get_text(el, "serial"),
            alias: doc.get(el, "alias", "name"),
        }
    }

    fn write(&self, old: &Self, doc: &mut XmlDoc, el: NodeId) -> Result<()> {
        if self.effective_type() != old.effective_type() {
            doc.set_attr(el, "type", self.effective_type())?;
        }
        if self.device != old.device {
            doc.set_attr(el, "device", &self.device)?;
        }
        for (attr, new, was) in [
            ("name", &self.driver_name, &old.driver_name),
            ("type", &self.format, &old.format),
            ("cache", &self.cache, &old.cache),
            ("discard", &self.discard, &old.discard),
            ("io", &self.io, &old.io),
        ] {
            if new != was {
                doc.put(el, "driver", attr, new.as_deref())?;
            }
        }
        if self.source != old.source {
            write_source(doc, el, old.source.as_ref(), self.source.as_ref())?;
        }
        if self.target != old.target {
            doc.put(el, "target", "dev", self.target.as_deref())?;
        }
        if self.bus != old.bus {
            doc.put(el, "target", "bus", self.bus.as_deref())?;
        }
        doc.put_flag(el, "readonly", self.readonly)?;
        doc.put_flag(el, "shareable", self.shareable)?;
        if self.boot_order != old.boot_order {
            doc.put_num(el, "boot", "order", self.boot_order)?;
        }
        if self.serial != old.serial {
            doc.put_text(el, "serial", self.serial.as_deref())?;
        }
        Ok(())
    }

    fn to_element(&self) -> NewElement {
        let driver = [
            &self.driver_name,
            &self.format,
            &self.cache,
            &self.discard,
            &self.io,
        ]
        .iter()
        .any(|f| f.is_some())
        .then(|| {
            NewElement::new("driver")
                .attr_opt("name", self.driver_name.clone())
                .attr_opt("type", self.format.clone())
                .attr_opt("cache", self.cache.clone())
                .attr_opt("discard", self.discard.clone())
                .attr_opt("io", self.io.clone())
        });
        let source = self.source.as_ref().map(|s| {
            let mut el = NewElement::new("source");
            for (k, v) in s.attrs() {
                el = el.attr(k, v);
            }
            for h in s.hosts() {
                el = el.child(host_element(h));
            }
            el
        });
        let target = (self.target.is_some() || self.bus.is_some()).then(|| {
            NewElement::new("target")
                .attr_opt("dev", self.target.clone())
                .attr_opt("bus", self.bus.clone())
        });
        NewElement::new("disk")
            .attr("type", self.effective_type())
            .attr("device", &self.device)
            .child_opt(driver)
            .child_opt(source)
            .child_opt(target)
            .child_opt(self.readonly.then(|| NewElement::new("readonly")))
            .child_opt(self.shareable.then(|| NewElement::new("shareable")))
            .child_opt(
                self.serial
                    .clone()
                    .map(|s| NewElement::new("serial").text(s)),
            )
            .child_opt(
                self.boot_order
                    .map(|o| NewElement::new("boot").attr("order", o.to_string())),
            )
    }

    /// Picks the bus (virtio for disks; SATA on q35, IDE otherwise for CD-ROMs; fdc for
    /// floppies) and the first free target name on it, as virt-xml does.
    fn complete(&mut self, domain: &mut DomainXml) -> Result<()> {
        if self.bus.is_none() {
            let q35 = domain.os().machine.is_some_and(|m| m.contains("q35"));
            self.bus = Some(
                match self.device.as_str() {
                    "cdrom" if q35 => "sata",
                    "cdrom" => "ide",
                    "floppy" => "fdc",
                    "lun" => "scsi",
                    _ => "virtio",
                }
                .to_owned(),
            );
        }
        if self.target.is_none() {
            let used: Vec<String> = domain
                .devices_of::<Disk>()
                .into_iter()
                .filter_map(|(_, d)| d.target)
                .collect();
            let prefix = target_prefix(self.bus.as_deref().unwrap_or("virtio"));
            self.target = Some(
                (0..18_278)
                    .map(|i| format!("{prefix}{}", disk_letters(i)))
                    .find(|t| !used.contains(t))
                    .ok_or_else(|| {
                        DomainXmlError::invalid("target", prefix, "no free target name")
                    })?,
            );
        }
        Ok(())
    }
}

/// The name prefix of disks on `bus`.
pub fn target_prefix(bus: &str) -> &'static str {
    match bus {
        "virtio" => "vd",
        "ide" => "hd",
        "fdc" => "fd",
        "xen" => "xvd",
        "ubd" => "ubd",
        _ => "sd",
    }
}

/// Disk letters as libvirt counts them: a..z, aa..az, ba...
fn disk_letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_count_like_libvirt() {
        assert_eq!(disk_letters(0), "a");
        assert_eq!(disk_letters(25), "z");
        assert_eq!(disk_letters(26), "aa");
        assert_eq!(disk_letters(27), "ab");
        assert_eq!(disk_letters(52), "ba");
        assert_eq!(disk_letters(701), "zz");
        assert_eq!(disk_letters(702), "aaa");
    }
}
