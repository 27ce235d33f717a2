//! Reading a domain's XML from libvirt and handing changes back: define the edited
//! document, or attach, update and detach one device live and/or in the persistent
//! configuration.
//!
//! These calls block (a remote host can take seconds): the UI runs them on the
//! connection's worker, the command-line tool calls them directly. They use the `virt`
//! crate's safe API only.

use virt::connect::Connect;
use virt::domain::Domain;
use virt::sys;

use super::domain::DomainXml;
use crate::virt::error::{Result, VirtError};

/// Which definition of a domain to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Definition {
    /// The persistent configuration (what the next boot uses): what is edited and
    /// defined.
    Persistent,
    /// The running configuration (with libvirt's aliases and live state).
    Live,
}

/// Where a device change applies (libvirt's `VIR_DOMAIN_AFFECT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Affect {
    /// Now, on the running domain (hot-plug).
    pub live: bool,
    /// In the persistent configuration, from the next boot.
    pub config: bool,
}

impl Affect {
    /// Now only.
    pub const LIVE: Affect = Affect {
        live: true,
        config: false,
    };
    /// From the next boot only.
    pub const CONFIG: Affect = Affect {
        live: false,
        config: true,
    };
    /// Both now and from the next boot.
    pub const BOTH: Affect = Affect {
        live: true,
        config: true,
    };

    fn flags(self) -> u32 {
        let mut f = 0;
        if self.live {
            f |= sys::VIR_DOMAIN_AFFECT_LIVE;
        }
        if self.config {
            f |= sys::VIR_DOMAIN_AFFECT_CONFIG;
        }
        f
    }
}

/// For a program without a GLib main loop (`vireo-xml`): installs libvirt's default
/// event loop and runs it on a thread of its own, as virsh does. Drivers that talk to
/// QEMU in-process (`qemu:///embed`) need it for their monitor. Never call this in the
/// GTK application, whose main loop already runs libvirt's events (see
/// [`crate::virt::init`]).
pub fn run_event_loop_thread() -> Result<()> {
    virt::event::event_register_default_impl().map_err(lib_err("virEventRegisterDefaultImpl"))?;
    std::thread::Builder::new()
        .name("libvirt-events".into())
        .spawn(|| loop {
            if let Err(e) = virt::event::event_run_default_impl() {
                tracing::warn!(error = %e.message(), "libvirt's event loop stopped");
                break;
            }
        })
        .map_err(|e| VirtError::InvalidArgument(e.to_string()))?;
    Ok(())
}

/// A domain looked up on a connection.
pub struct DomainHandle(Domain);

fn lib_err(op: &'static str) -> impl Fn(virt::error::Error) -> VirtError {
    move |e| VirtError::Libvirt {
        op,
        code: e.code().to_raw() as i32,
        message: e.message().to_owned(),
    }
}

fn xml_err(e: super::DomainXmlError) -> VirtError {
    VirtError::Xml(e.to_string())
}

/// Looks a domain up as virsh and virt-xml do: by name, then UUID, then id.
pub fn lookup(conn: &Connect, name_uuid_or_id: &str) -> Result<DomainHandle> {
    let by_name = conn.lookup_domain_by_name(name_uuid_or_id);
    let found = by_name
        .or_else(|e| {
            if name_uuid_or_id.len() == 36 {
                conn.lookup_domain_by_uuid_string(name_uuid_or_id)
            } else {
                Err(e)
            }
        })
        .or_else(|e| match name_uuid_or_id.parse::<u32>() {
            Ok(id) => conn.lookup_domain_by_id(id),
            Err(_) => Err(e),
        });
    found
        .map(DomainHandle)
        .map_err(lib_err("virDomainLookupByName"))
}

impl DomainHandle {
    /// The domain's name.
    pub fn name(&self) -> Result<String> {
        self.0.name().map_err(lib_err("virDomainGetName"))
    }

    /// True while the domain runs.
    pub fn is_active(&self) -> Result<bool> {
        self.0.is_active().map_err(lib_err("virDomainIsActive"))
    }

    /// The domain's XML as libvirt writes it, with secrets (graphics passwords), so
    /// that defining it back loses nothing.
    pub fn xml(&self, which: Definition) -> Result<String> {
        let mut flags = sys::VIR_DOMAIN_XML_SECURE;
        if which == Definition::Persistent {
            flags |= sys::VIR_DOMAIN_XML_INACTIVE;
        }
        self.0
            .xml_desc(flags)
            .map_err(lib_err("virDomainGetXMLDesc"))
    }

    /// The domain's XML as a document.
    pub fn document(&self, which: Definition) -> Result<DomainXml> {
        DomainXml::parse(self.xml(which)?).map_err(xml_err)
    }

    /// Renames the (inactive) domain: libvirt refuses a define that changes the name
    /// of a domain it knows under another.
    pub fn rename(&self, new_name: &str) -> Result<()> {
        self.0
            .rename(new_name, 0)
            .map_err(lib_err("virDomainRename"))
    }

    /// Adds a device (hot-plug when `affect.live`).
    pub fn attach_device(&self, xml: &str, affect: Affect) -> Result<()> {
        self.0
            .attach_device_flags(xml, affect.flags())
            .map_err(lib_err("virDomainAttachDeviceFlags"))
    }

    /// Changes a device in place (media change, link state, graphics password...).
    pub fn update_device(&self, xml: &str, affect: Affect) -> Result<()> {
        self.0
            .update_device_flags(xml, affect.flags())
            .map_err(lib_err("virDomainUpdateDeviceFlags"))
    }

    /// Sets the memory the guest has (KiB), through the balloon when `affect.live`.
    pub fn set_current_memory(&self, kib: u64, affect: Affect) -> Result<()> {
        self.0
            .set_memory_flags(kib, affect.flags())
            .map_err(lib_err("virDomainSetMemoryFlags"))
    }

    /// Removes a device (hot-unplug when `affect.live`).
    pub fn detach_device(&self, xml: &str, affect: Affect) -> Result<()> {
        self.0
            .detach_device_flags(xml, affect.flags())
            .map_err(lib_err("virDomainDetachDeviceFlags"))
    }
}

/// Defines `doc` as the persistent configuration of its domain, asking libvirt to
/// validate it against its schema first (so a mistake is refused with libvirt's own
/// message instead of half-applied). Returns the defined domain.
pub fn define(conn: &Connect, doc: &DomainXml) -> Result<DomainHandle> {
    conn.define_domain_xml_flags(doc.text(), sys::VIR_DOMAIN_DEFINE_VALIDATE)
        .map(DomainHandle)
        .map_err(lib_err("virDomainDefineXMLFlags"))
}

/// Defines the text `xml` as is (the XML tab's hand edit), validated by libvirt
/// against its schema first; malformed XML is refused with libvirt's own message.
pub fn define_text(conn: &Connect, xml: &str) -> Result<DomainHandle> {
    conn.define_domain_xml_flags(xml, sys::VIR_DOMAIN_DEFINE_VALIDATE)
        .map(DomainHandle)
        .map_err(lib_err("virDomainDefineXMLFlags"))
}
