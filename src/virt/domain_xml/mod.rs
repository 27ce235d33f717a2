//! The document layer: a domain's XML kept as the text it came from, edited in place.
//!
//! Vireo never rebuilds a domain's XML from a model of it. [`XmlDoc`] holds the text
//! libvirt (or a file) gave and an index of its elements with their byte ranges; each
//! edit replaces the bytes of exactly what it changes. Everything else stays as it
//! was, byte for byte: comments, unknown elements and attributes, other applications'
//! `<metadata>`, `<qemu:commandline>`, CDATA, entity references, quoting, attribute
//! order, indentation and line ends. What Vireo adds is written the way the document
//! writes the rest (quotes, indentation unit, line ends) and placed where libvirt
//! itself would put it. An edit that sets what is already there changes nothing, so
//! [`DomainXml::is_changed`] tells whether there is anything to define at all.
//!
//! [`DomainXml`] adds typed views of what Vireo edits: name, title, description and
//! memory ([`MemorySize`] keeps the unit a value was written in), vCPUs and CPU
//! ([`Cpu`], [`Topology`]), boot and firmware ([`Os`]), features, metadata, and the
//! devices ([`devices`]): each typed view is read whole, changed, and written back by
//! difference, and each device is named by a [`DeviceKey`] that survives edits.
//!
//! ```
//! use vireo::virt::domain_xml::devices::{Disk, DiskSource};
//! use vireo::virt::domain_xml::DomainXml;
//!
//! let text = "<domain type='kvm'>\n  <name>demo</name>\n  <!-- keep me -->\n  \
//!             <memory unit='GiB'>2</memory>\n  <devices>\n    <disk type='file' device='cdrom'>\n      \
//!             <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n  </devices>\n</domain>\n";
//! let mut dom = DomainXml::parse(text)?;
//! assert!(!dom.is_changed());
//!
//! dom.set_memory_kib(4 * 1024 * 1024)?; // stays in GiB: <memory unit='GiB'>4</memory>
//! let (cdrom, _) = dom.devices_of::<Disk>().remove(0);
//! dom.edit_device(&cdrom, |d: &mut Disk| {
//!     d.source = Some(DiskSource::File("/isos/debian.iso".into()));
//! })?;
//!
//! assert!(dom.text().contains("<memory unit='GiB'>4</memory>"));
//! assert!(dom.text().contains("<!-- keep me -->"));
//! assert!(dom.device_xml(&cdrom)?.contains("<source file='/isos/debian.iso'/>"));
//! println!("{}", dom.diff());
//! # Ok::<(), vireo::virt::domain_xml::DomainXmlError>(())
//! ```

mod cpu_os;
mod diff;
mod document;
mod domain;
mod edit;
mod error;
mod escape;
mod fields;
mod fragment;
mod index;
mod metadata;
mod order;
mod units;

pub mod apply;
pub mod devices;
pub mod drift;

pub use cpu_os::{Cpu, CpuFeature, Os, Topology, BOOT_DEVICES};
pub use devices::{DeviceKey, DeviceKind, DeviceView};
pub use diff::unified as unified_diff;
pub use document::{NodeId, XmlDoc};
pub use domain::{DomainXml, Vcpus};
pub use error::{DomainXmlError, Result};
pub use fragment::NewElement;
pub use metadata::{LIBOSINFO_NS, VIREO_NS};
pub use units::{parse_size_kib, unit_bytes, MemorySize};
