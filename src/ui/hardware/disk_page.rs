//! A disk's page: its source (for a CD-ROM or floppy, the medium: changed or ejected
//! at once on a running VM), format, device name, bus, cache, read-only and shareable.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HostLimits};
use crate::model::details::{DeviceKey, Disk, DiskSource, DomainXml};

const BUSES: [&str; 5] = ["virtio", "sata", "scsi", "ide", "usb"];
const REMOVABLE_BUSES: [&str; 4] = ["sata", "scsi", "ide", "usb"];
/// `default` stands for no `cache` attribute (the hypervisor's choice).
const CACHES: [&str; 6] = [
    "default",
    "none",
    "writethrough",
    "writeback",
    "directsync",
    "unsafe",
];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-disk-page.ui")]
    pub struct HwDiskPage {
        #[template_child]
        pub(super) source_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) source_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) eject_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) format_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) target_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) bus_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) cache_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) readonly_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) shareable_switch: TemplateChild<gtk::Switch>,
        pub(super) key: RefCell<Option<DeviceKey>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwDiskPage {
        const NAME: &'static str = "VireoHwDiskPage";
        type Type = super::HwDiskPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwDiskPage {
        fn constructed(&self) {
            self.parent_constructed();
            let row = self.source_row.get();
            self.eject_button.connect_clicked(move |_| row.set_text(""));
        }
    }
    impl WidgetImpl for HwDiskPage {}
    impl BinImpl for HwDiskPage {}
}

glib::wrapper! {
    /// A disk's page of the hardware view.
    pub struct HwDiskPage(ObjectSubclass<imp::HwDiskPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwDiskPage {
    /// The page of the disk `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    fn disk(&self, dom: &DomainXml) -> Option<Disk> {
        let key = self.imp().key.borrow().clone()?;
        dom.device::<Disk>(&key).ok()
    }

    /// The path typed in the source row.
    pub fn set_source_text(&self, path: &str) {
        self.imp().source_row.set_text(path);
    }

    /// Empties the drive (as the Eject button does).
    pub fn eject(&self) {
        self.imp().eject_button.emit_clicked();
    }

    /// The disk as the page's values make it, from `old`.
    fn edited(&self, old: &Disk) -> Result<Disk, String> {
        let imp = self.imp();
        let mut disk = old.clone();
        let text = imp.source_row.text().trim().to_owned();
        let editable = matches!(
            old.source,
            None | Some(DiskSource::File(_)) | Some(DiskSource::Block(_))
        );
        if editable && Some(text.as_str()) != old.path() {
            disk.source = match (&old.source, text.is_empty()) {
                (_, true) if old.is_removable() => None,
                (_, true) => return Err(gettext("A disk needs the path of its image or device.")),
                (Some(DiskSource::Block(_)), false) => Some(DiskSource::Block(text)),
                _ => Some(DiskSource::File(text)),
            };
        }
        disk.bus = combo_value(&imp.bus_row).or(old.bus.clone());
        disk.cache = combo_value(&imp.cache_row).filter(|c| c != "default");
        disk.readonly = imp.readonly_switch.is_active();
        disk.shareable = imp.shareable_switch.is_active();
        Ok(disk)
    }
}

impl Editor for HwDiskPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(disk) = self.disk(dom) else { return };
        let imp = self.imp();
        let removable = disk.is_removable();
        imp.source_group.set_title(&if removable {
            gettext("Medium")
        } else {
            gettext("Source")
        });
        let (text, editable) = match &disk.source {
            None => (String::new(), true),
            Some(DiskSource::File(p)) | Some(DiskSource::Block(p)) => (p.clone(), true),
            Some(DiskSource::Dir(p)) => (p.clone(), false),
            Some(DiskSource::Volume { pool, volume }) => (format!("{pool}/{volume}"), false),
            Some(DiskSource::Network { protocol, name, .. }) => (
                format!("{protocol}: {}", name.as_deref().unwrap_or("")),
                false,
            ),
        };
        imp.source_row.set_text(&text);
        imp.source_row.set_editable(editable);
        imp.eject_button.set_visible(removable);
        imp.format_row
            .set_subtitle(disk.format.as_deref().unwrap_or("—"));
        imp.target_row
            .set_subtitle(disk.target.as_deref().unwrap_or("—"));
        let buses: &[&str] = if removable { &REMOVABLE_BUSES } else { &BUSES };
        combo_fill(&imp.bus_row, buses, disk.bus.as_deref());
        combo_fill(
            &imp.cache_row,
            &CACHES,
            Some(disk.cache.as_deref().unwrap_or("default")),
        );
        imp.readonly_switch.set_active(disk.readonly);
        imp.shareable_switch.set_active(disk.shareable);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let old = dom.device::<Disk>(&key).map_err(|e| e.to_string())?;
        let new = self.edited(&old)?;
        if new != old {
            dom.update_device(&key, &new).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn live_update(&self, before: &DomainXml, after: &DomainXml) -> Option<String> {
        let key = self.imp().key.borrow().clone()?;
        let old = before.device::<Disk>(&key).ok()?;
        let new = after.device::<Disk>(&key).ok()?;
        // Only a removable drive's medium changes while the VM runs.
        let only_medium = Disk {
            source: new.source.clone(),
            disk_type: new.disk_type.clone(),
            ..old.clone()
        } == new;
        (old.is_removable() && only_medium && old != new)
            .then(|| after.device_xml(&key).ok())
            .flatten()
    }
}
