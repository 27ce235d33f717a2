//! A disk's page: its source (for a CD-ROM or floppy, the medium: changed or ejected
//! at once on a running VM), its size (a pool volume grows at once with Resize; a
//! smaller size is refused on the field), format, device name, bus, cache, read-only
//! and shareable.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HardwareView, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{DeviceKey, Disk, DiskSize, DiskSource, DomainXml};
use crate::model::{error_text, ConnectionObject, DomainObject};
use crate::ui::formatting::format_size;

/// Bytes in the GiB the size field counts in.
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

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
        #[template_child]
        pub(super) size_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) capacity_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) size_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) resize_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) size_message: TemplateChild<gtk::Label>,
        /// The target and pool-volume source of the disk whose size is shown.
        pub(super) sized: RefCell<Option<(String, DiskSource)>>,
        /// Its size as last read.
        pub(super) size: std::cell::Cell<Option<DiskSize>>,
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
            let obj = self.obj();
            self.resize_button.connect_clicked(glib::clone!(
                #[weak]
                obj,
                move |_| obj.resize()
            ));
        }
    }

    impl WidgetImpl for HwDiskPage {
        fn map(&self) {
            self.parent_map();
            self.obj().read_size();
        }
    }
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

    /// Types `gib` in the size field (as a person would).
    pub fn set_size_gib(&self, gib: f64) {
        self.imp().size_spin.set_value(gib);
    }

    /// The size shown ("20.0 GiB, 1.2 GiB used on the host"; empty: none shown).
    pub fn size_text(&self) -> String {
        let imp = self.imp();
        if !imp.size_group.is_visible() {
            return String::new();
        }
        imp.capacity_row.subtitle().unwrap_or_default().to_string()
    }

    /// What the last Resize said (its refusal or success; empty: nothing), and
    /// whether it is an error.
    pub fn size_message(&self) -> (String, bool) {
        let label = &self.imp().size_message;
        if !label.is_visible() {
            return (String::new(), false);
        }
        (label.label().to_string(), label.has_css_class("error"))
    }

    /// The VM and host this page belongs to (through its hardware view).
    fn domain_and_connection(&self) -> Option<(DomainObject, ConnectionObject)> {
        let domain = self
            .ancestor(HardwareView::static_type())
            .and_downcast::<HardwareView>()?
            .domain()?;
        let connection = domain.connection()?;
        Some((domain, connection))
    }

    /// Says `text` under the size (`error`: marked as a refusal, with the row).
    fn say_size(&self, text: &str, error: bool) {
        let imp = self.imp();
        imp.size_message.set_label(text);
        imp.size_message.set_visible(!text.is_empty());
        for widget in [
            imp.size_message.upcast_ref::<gtk::Widget>(),
            imp.capacity_row.upcast_ref(),
        ] {
            if error {
                widget.add_css_class("error");
            } else {
                widget.remove_css_class("error");
            }
        }
    }

    /// Reads the size of the disk's pool volume (the group hides when it is none).
    fn read_size(&self) {
        let Some((_, source)) = self.imp().sized.borrow().clone() else {
            self.imp().size_group.set_visible(false);
            return;
        };
        let Some((_, connection)) = self.domain_and_connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let size = connection.disk_size(source).await;
                page.show_size(size.unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "no size for the disk");
                    None
                }));
            }
        ));
    }

    fn show_size(&self, size: Option<DiskSize>) {
        let imp = self.imp();
        imp.size.set(size);
        imp.size_group.set_visible(size.is_some());
        let Some(size) = size else { return };
        imp.capacity_row.set_subtitle(&gettext_f(
            "{capacity}, {allocation} used on the host",
            &[
                ("capacity", &format_size(size.capacity)),
                ("allocation", &format_size(size.allocation)),
            ],
        ));
        imp.size_spin.set_value(size.capacity as f64 / GIB);
    }

    /// Grows the disk to the size field's value; a smaller one is refused on the field.
    fn resize(&self) {
        let imp = self.imp();
        let (Some(size), Some((target, source))) = (imp.size.get(), imp.sized.borrow().clone())
        else {
            return;
        };
        imp.size_spin.update();
        self.say_size("", false);
        let wanted = (imp.size_spin.value() * GIB).round() as u64;
        // The field shows tenths of a GiB: a size it cannot show exactly is the same.
        if (wanted as f64 - size.capacity as f64).abs() < GIB / 20.0 {
            self.say_size(&gettext("The disk already has this size."), false);
            return;
        }
        if wanted < size.capacity {
            self.say_size(
                &gettext_f(
                    "A disk cannot shrink: the guest’s data past the new end would be lost. Choose {size} or more.",
                    &[("size", &format_size(size.capacity))],
                ),
                true,
            );
            return;
        }
        let Some((domain, connection)) = self.domain_and_connection() else {
            return;
        };
        imp.resize_button.set_sensitive(false);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let running = domain.state().is_active();
                let r = connection
                    .resize_disk(&domain, target, source, wanted)
                    .await;
                page.imp().resize_button.set_sensitive(true);
                match r {
                    Ok(()) => {
                        let text = if running {
                            gettext("Grown to {size}. The guest sees the new size now.")
                        } else {
                            gettext("Grown to {size}.")
                        };
                        page.say_size(&text.replace("{size}", &format_size(wanted)), false);
                        page.read_size();
                    }
                    Err(e) => page.say_size(
                        &gettext_f(
                            "The disk was not resized: {error}",
                            &[("error", &error_text(&e))],
                        ),
                        true,
                    ),
                }
            }
        ));
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
        // Only a hard disk's image can grow (a CD's medium is what it is).
        let sized = match (&disk.source, &disk.target) {
            (Some(source), Some(target)) if disk.device == "disk" => {
                Some((target.clone(), source.clone()))
            }
            _ => None,
        };
        if *imp.sized.borrow() != sized {
            // Another disk: the last one's Resize said nothing about it.
            self.say_size("", false);
        }
        imp.sized.replace(sized);
        if self.is_mapped() {
            self.read_size();
        }
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
