//! A VM's configuration as its Details and Hardware pages read and change it: typed
//! async methods of its connection that run on the connection's worker.
//!
//! Pages read the persistent definition as a [`DomainXml`] document, edit it in place
//! (only the bytes of what changes) and hand it back with [`ConnectionObject::save_definition`],
//! which defines nothing when nothing changed and refuses when the definition changed
//! meanwhile. Changes that act on the running VM at once (media, link state, unplug)
//! go through [`ConnectionObject::update_device`] and [`ConnectionObject::detach_device`].

use gettextrs::gettext;

use super::connection_object::error_text;
use super::{ConnectionObject, DomainObject};
use crate::virt::domain_details::{self, DeviceChange, SaveError};
use crate::virt::domain_xml::apply::Definition;
use crate::virt::VirtError;

pub use super::device_titles::{device_icon, device_title, value_name, value_names};
pub use super::host_devices::{HostAddress, HostDevice, NamedId};
pub use crate::virt::domain_details::{AddressSource, DiskSize, GuestAddress};
pub use crate::virt::domain_xml::apply::Affect;
pub use crate::virt::domain_xml::devices::{
    CharDevice, Controller, Disk, DiskSource, Filesystem, Graphics, Hostdev, HostdevSource, Input,
    Interface, InterfaceSource, Listen, Memballoon, Rng, Sound, Tpm, Video, Watchdog,
    RNG_DEFAULT_SOURCE,
};
pub use crate::virt::domain_xml::{
    Cpu, DeviceKey, DeviceKind, DomainXml, DomainXmlError, MemorySize, Os, Topology, Vcpus,
    BOOT_DEVICES,
};

pub use crate::virt::domain_xml::drift::{DeviceField, Drift, Setting, Value as DriftValue};

/// The unified diff between two texts (the XML tab shows it before applying).
pub use crate::virt::domain_xml::unified_diff;

/// Why a change to a VM's configuration was not made.
#[derive(Debug, thiserror::Error)]
pub enum DetailsError {
    /// The saved configuration changed since the page read it; nothing was written.
    #[error("changed meanwhile")]
    ChangedMeanwhile,
    /// The edit itself could not be made to the document.
    #[error(transparent)]
    Document(#[from] DomainXmlError),
    /// libvirt refused, or the connection failed.
    #[error(transparent)]
    Virt(#[from] VirtError),
}

impl From<SaveError> for DetailsError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::ChangedMeanwhile => Self::ChangedMeanwhile,
            SaveError::Virt(e) => Self::Virt(e),
        }
    }
}

/// One difference between a running VM and its saved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    /// What differs.
    pub drift: Drift,
    /// The device it concerns, as the Hardware list names it (`None`: a setting).
    pub device: Option<String>,
}

impl PendingChange {
    fn new(drift: Drift, live: &DomainXml, saved: &DomainXml) -> Self {
        let device = match &drift {
            Drift::DeviceAdded(key) | Drift::DeviceChanged { key, .. } => {
                Some(device_title(saved, key))
            }
            Drift::DeviceRemoved(key) => Some(device_title(live, key)),
            Drift::Setting { .. } => None,
        };
        PendingChange { drift, device }
    }
}

/// When a change takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Now, and for the next starts.
    Now,
    /// The VM runs: at its next start.
    NextBoot,
    /// The VM is off: saved, for its next start.
    Saved,
}

impl DetailsError {
    /// The sentence shown to the person: libvirt's own words when libvirt refused.
    pub fn text(&self) -> String {
        match self {
            Self::ChangedMeanwhile => {
                gettext("The configuration was changed elsewhere meanwhile; it has been read again")
            }
            Self::Document(e) => e.to_string(),
            Self::Virt(e) => error_text(e),
        }
    }
}

impl ConnectionObject {
    /// The persistent definition of `domain` (what the next boot uses), or the
    /// running one with `live`.
    pub async fn domain_document(
        &self,
        domain: &DomainObject,
        live: bool,
    ) -> Result<DomainXml, VirtError> {
        let uuid = domain.uuid();
        let which = if live {
            Definition::Live
        } else {
            Definition::Persistent
        };
        self.worker()
            .run(move |st| {
                crate::virt::domain_xml::apply::lookup(st.session()?.conn(), &uuid)?.document(which)
            })
            .await?
    }

    /// Saves the edited persistent definition `doc` of `domain`. Nothing is defined
    /// when nothing changed (`Ok(false)`); when the definition changed since `doc` was
    /// read, nothing is written and [`DetailsError::ChangedMeanwhile`] says so.
    pub async fn save_definition(
        &self,
        domain: &DomainObject,
        doc: DomainXml,
    ) -> Result<bool, DetailsError> {
        if !doc.is_changed() {
            return Ok(false);
        }
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| domain_details::save_definition(st.session()?.conn(), &uuid, &doc))
            .await
            .map_err(DetailsError::Virt)?;
        self.config_touched(domain);
        Ok(r?)
    }

    /// The persistent definition of `domain` as libvirt writes it (the XML tab's text).
    pub async fn persistent_xml(&self, domain: &DomainObject) -> Result<String, VirtError> {
        let uuid = domain.uuid();
        self.worker()
            .run(move |st| {
                crate::virt::domain_xml::apply::lookup(st.session()?.conn(), &uuid)?
                    .xml(Definition::Persistent)
            })
            .await?
    }

    /// Defines the hand-edited XML `xml` of `domain`, validated by libvirt, if its
    /// persistent definition is still `original`; else nothing is written and
    /// [`DetailsError::ChangedMeanwhile`] says so. `Ok(false)` when nothing changed.
    pub async fn save_xml_text(
        &self,
        domain: &DomainObject,
        original: String,
        xml: String,
    ) -> Result<bool, DetailsError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| domain_details::save_text(st.session()?.conn(), &uuid, &original, &xml))
            .await
            .map_err(DetailsError::Virt)?;
        if matches!(r, Ok(true)) {
            self.config_touched(domain);
        }
        Ok(r?)
    }

    /// Renames the shut-off `domain` (libvirt refuses while it runs, in its words).
    pub async fn rename_domain(
        &self,
        domain: &DomainObject,
        new_name: &str,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let new_name = new_name.to_owned();
        let r = self
            .worker()
            .run(move |st| domain_details::rename(st.session()?.conn(), &uuid, &new_name))
            .await;
        self.config_touched(domain);
        r?
    }

    /// Sets `domain`'s title, or its description with `description`; empty removes it.
    pub async fn set_title_or_description(
        &self,
        domain: &DomainObject,
        description: bool,
        text: &str,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let text = text.to_owned();
        let r = self
            .worker()
            .run(move |st| {
                domain_details::set_text_metadata(st.session()?.conn(), &uuid, description, &text)
            })
            .await;
        self.config_touched(domain);
        r?
    }

    /// Changes the device `device_xml` in place (media, link state) where `affect` says.
    pub async fn update_device(
        &self,
        domain: &DomainObject,
        device_xml: String,
        affect: Affect,
    ) -> Result<(), VirtError> {
        self.device_job(domain, DeviceChange::Update, device_xml, affect)
            .await
    }

    /// Adds the device `key` of the edited persistent definition `doc` to `domain`.
    /// With `hotplug` on a running VM it is plugged in now and saved for the next
    /// starts (libvirt refuses both when it cannot plug it in, in its words);
    /// otherwise the definition is saved (refused when it changed meanwhile) and the
    /// device comes at the next start. Returns when it applies.
    pub async fn add_device(
        &self,
        domain: &DomainObject,
        doc: DomainXml,
        key: &DeviceKey,
        hotplug: bool,
    ) -> Result<Applies, DetailsError> {
        if hotplug && domain.state().is_active() {
            let xml = doc.device_xml(key)?;
            let affect = Affect {
                live: true,
                config: domain.persistent(),
            };
            self.device_job(domain, DeviceChange::Attach, xml, affect)
                .await?;
            Ok(Applies::Now)
        } else {
            self.save_definition(domain, doc).await?;
            Ok(if domain.state().is_active() {
                Applies::NextBoot
            } else {
                Applies::Saved
            })
        }
    }

    /// Removes the device `device_xml` where `affect` says (unplugs it from a running VM).
    pub async fn detach_device(
        &self,
        domain: &DomainObject,
        device_xml: String,
        affect: Affect,
    ) -> Result<(), VirtError> {
        self.device_job(domain, DeviceChange::Detach, device_xml, affect)
            .await
    }

    async fn device_job(
        &self,
        domain: &DomainObject,
        change: DeviceChange,
        device_xml: String,
        affect: Affect,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| {
                domain_details::change_device(
                    st.session()?.conn(),
                    &uuid,
                    change,
                    &device_xml,
                    affect,
                )
            })
            .await;
        self.config_touched(domain);
        r?
    }

    /// Gives the running `domain` `kib` KiB of memory now, through its balloon, and
    /// for the next starts too when `affect.config`; libvirt's refusal in its words.
    pub async fn set_current_memory(
        &self,
        domain: &DomainObject,
        kib: u64,
        affect: Affect,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| {
                domain_details::set_current_memory(st.session()?.conn(), &uuid, kib, affect)
            })
            .await;
        self.config_touched(domain);
        r?
    }

    /// The running `domain`'s addresses: guest agent, else DHCP leases, else ARP.
    pub async fn guest_addresses(
        &self,
        domain: &DomainObject,
    ) -> Result<Vec<GuestAddress>, VirtError> {
        let uuid = domain.uuid();
        self.worker()
            .run(move |st| domain_details::guest_addresses(st.session()?.conn(), &uuid))
            .await?
    }

    /// What differs between the running `domain` and its saved configuration (what
    /// its next start changes), each device named as the Hardware list names it. Empty
    /// for a VM that does not run or has no saved configuration.
    pub async fn pending_changes(
        &self,
        domain: &DomainObject,
    ) -> Result<Vec<PendingChange>, VirtError> {
        if !domain.state().is_active() || !domain.persistent() {
            return Ok(Vec::new());
        }
        let uuid = domain.uuid();
        self.worker()
            .run(move |st| {
                let handle = crate::virt::domain_xml::apply::lookup(st.session()?.conn(), &uuid)?;
                if !handle.is_active()? {
                    return Ok(Vec::new());
                }
                let live = handle.document(Definition::Live)?;
                let saved = handle.document(Definition::Persistent)?;
                Ok(crate::virt::domain_xml::drift::drift(&live, &saved)
                    .into_iter()
                    .map(|drift| PendingChange::new(drift, &live, &saved))
                    .collect())
            })
            .await?
    }

    /// The size of the disk whose image is `source`; `None` when it is no volume of
    /// one of the host's storage pools (its size is then not libvirt's to change).
    pub async fn disk_size(&self, source: DiskSource) -> Result<Option<DiskSize>, VirtError> {
        self.worker()
            .run(move |st| domain_details::disk_size(st.session()?.conn(), &source))
            .await?
    }

    /// Grows `domain`'s disk `target`, whose image is the pool volume `source`, to
    /// `bytes`: at once in a running guest, else in its pool. Shrinking is the
    /// caller's to refuse (libvirt would cut the guest's data).
    pub async fn resize_disk(
        &self,
        domain: &DomainObject,
        target: String,
        source: DiskSource,
        bytes: u64,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| {
                domain_details::resize_disk(st.session()?.conn(), &uuid, &target, &source, bytes)
            })
            .await;
        self.config_touched(domain);
        r?
    }

    /// The host's memory in KiB: no guest can be given more.
    pub async fn host_memory_kib(&self) -> Result<u64, VirtError> {
        self.worker()
            .run(move |st| domain_details::host_memory_kib(st.session()?.conn()))
            .await?
    }

    /// After a change: the domain's figures are read again and its pages re-read the
    /// XML (libvirt raises no event for some changes, and the test driver none at all).
    fn config_touched(&self, domain: &DomainObject) {
        self.schedule_refresh(domain.uuid());
        domain.emit_config_changed();
    }
}

/// The name of the OS with libosinfo id `id` (`http://debian.org/debian/12`), from the
/// system's osinfo database; the id itself when the database does not know it.
pub async fn os_name(id: &str) -> String {
    match super::new_vm::os_database().await {
        Ok(db) => db
            .by_id(id)
            .map_or_else(|| id.to_owned(), |os| os.name.clone()),
        Err(_) => id.to_owned(),
    }
}
