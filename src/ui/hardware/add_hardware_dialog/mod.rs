//! Add Hardware: a dialog that adds one device to a VM, as virt-manager's does: a
//! disk (a new volume in a pool, or an existing image), a CD-ROM drive, a network card
//! on one of the host's networks or a bridge, a display, a sound card, an input
//! device, a random number generator, a watchdog, a TPM, a serial port or console,
//! a shared directory (virtiofs), or one of the host's USB devices or PCI functions.
//!
//! The device is written into a copy of the persistent definition (so its target
//! name, MAC address and place among the devices follow what is there), then either
//! plugged into the running VM and saved at once (disks, network cards, input
//! devices, RNGs, host devices: what QEMU hot-plugs) or saved for the next start. A refusal shows
//! libvirt's own words in the dialog and changes nothing; a wrong field is marked, with
//! what is wrong under it.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value};
use crate::i18n::gettext_f;
use crate::model::details::{Applies, Hostdev};
use crate::model::host::{DiskFormat, HostError, VolumeSpec};
use crate::model::new_vm::{NewVmError, Storage};
use crate::model::DomainObject;
use crate::ui::pickers::{DiskChooser, HostDeviceChooser, NetworkChooser};
use crate::ui::show_error;

mod form;

/// The list's label of the form `kind`.
fn kind_label(kind: &str) -> String {
    match kind {
        "disk" => gettext("Storage"),
        "cdrom" => gettext("CD-ROM Drive"),
        "nic" => gettext("Network Card"),
        "graphics" => gettext("Display (VNC or SPICE)"),
        "sound" => gettext("Sound Card"),
        "input" => gettext("Input Device"),
        "rng" => gettext("Random Number Generator"),
        "watchdog" => gettext("Watchdog"),
        "tpm" => gettext("TPM"),
        "serial" => gettext("Serial Port or Console"),
        "usb-host" => gettext("USB Host Device"),
        "pci-host" => gettext("PCI Host Device"),
        _ => gettext("Shared Directory"),
    }
}

/// What QEMU plugs into a running VM (attached live as well): network cards, input
/// devices, RNGs, the host's USB and PCI devices, and drives on a bus that hot-plugs
/// (not SATA or IDE).
fn hotplugs(kind: &str, bus: Option<&str>) -> bool {
    match kind {
        "nic" | "input" | "rng" | "usb-host" | "pci-host" => true,
        "disk" | "cdrom" => matches!(bus, Some("virtio" | "scsi" | "usb")),
        _ => false,
    }
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::AddHardwareDialog)]
    #[template(resource = "/io/github/vireo/Vireo/ui/add-hardware-dialog.ui")]
    pub struct AddHardwareDialog {
        #[property(get, set, construct_only)]
        pub(super) domain: RefCell<Option<DomainObject>>,
        #[template_child]
        pub(super) kind_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) where_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) forms: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) add_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub(super) failure_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) disk_chooser: TemplateChild<DiskChooser>,
        #[template_child]
        pub(super) host_device_chooser: TemplateChild<HostDeviceChooser>,
        #[template_child]
        pub(super) disk_bus_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) cdrom_path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) cdrom_bus_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) cdrom_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) network_chooser: TemplateChild<NetworkChooser>,
        #[template_child]
        pub(super) nic_model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) graphics_type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) graphics_listen_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) graphics_password_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub(super) graphics_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) sound_model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) input_type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) input_bus_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) rng_path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) rng_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) watchdog_model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) watchdog_action_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) tpm_model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) tpm_version_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) serial_kind_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) fs_source_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) fs_tag_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) fs_error: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for AddHardwareDialog {
        const NAME: &'static str = "VireoAddHardwareDialog";
        type Type = super::AddHardwareDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            DiskChooser::ensure_type();
            HostDeviceChooser::ensure_type();
            NetworkChooser::ensure_type();
            klass.bind_template();
            crate::ui::close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for AddHardwareDialog {
        fn signals() -> &'static [glib::subclass::Signal] {
            use std::sync::OnceLock;
            static SIGNALS: OnceLock<Vec<glib::subclass::Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![glib::subclass::Signal::builder("added")
                    .param_types([String::static_type()])
                    .build()]
            })
        }

        fn constructed(&self) {
            self.parent_constructed();
            self.obj().setup();
        }
    }

    impl WidgetImpl for AddHardwareDialog {}
    impl WindowImpl for AddHardwareDialog {}
    impl AdwWindowImpl for AddHardwareDialog {}
}

glib::wrapper! {
    /// Adds one device to a VM.
    pub struct AddHardwareDialog(ObjectSubclass<imp::AddHardwareDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl AddHardwareDialog {
    /// The kinds of device offered, in the order of the list, by the name of their
    /// form: what [`Self::choose_kind`] takes.
    pub const KINDS: [&'static str; 13] = [
        "disk",
        "cdrom",
        "nic",
        "graphics",
        "sound",
        "input",
        "rng",
        "watchdog",
        "tpm",
        "serial",
        "filesystem",
        "usb-host",
        "pci-host",
    ];

    /// The dialog for `domain`, over `parent`.
    pub fn new(domain: &DomainObject, parent: Option<&gtk::Window>) -> Self {
        let dialog: Self = glib::Object::builder().property("domain", domain).build();
        dialog.set_transient_for(parent);
        dialog
    }

    /// Chooses the kind of device (one of [`Self::KINDS`]), as the list does.
    pub fn choose_kind(&self, kind: &str) {
        if let Some(i) = Self::KINDS.iter().position(|k| *k == kind) {
            self.imp().kind_row.set_selected(i as u32);
        }
    }

    /// The host device form's chooser (USB and PCI host devices).
    pub fn host_device_chooser(&self) -> HostDeviceChooser {
        self.imp().host_device_chooser.get()
    }

    /// Presses Add.
    pub fn add(&self) {
        self.imp().add_button.emit_clicked();
    }

    /// What the dialog says went wrong (libvirt's refusal, or a field's problem);
    /// empty when nothing.
    pub fn problem(&self) -> String {
        let imp = self.imp();
        [
            &imp.failure_label.get(),
            &imp.cdrom_error.get(),
            &imp.graphics_error.get(),
            &imp.rng_error.get(),
            &imp.fs_error.get(),
        ]
        .iter()
        .find(|l| l.is_visible())
        .map(|l| l.label().to_string())
        .or_else(|| imp.host_device_chooser.error())
        .unwrap_or_else(|| imp.disk_chooser.error())
    }

    /// Connects to the device being added: `f` gets what the dialog says of when it
    /// applies, after which the dialog closes.
    pub fn connect_added<F: Fn(&Self, &str) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "added",
            false,
            glib::closure_local!(move |d: &Self, text: String| f(d, &text)),
        )
    }

    fn setup(&self) {
        let imp = self.imp();
        let labels: Vec<String> = Self::KINDS.iter().map(|k| kind_label(k)).collect();
        imp.kind_row
            .set_model(Some(&crate::ui::string_list(&labels)));
        imp.kind_row.connect_selected_notify(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move |_| dialog.kind_changed()
        ));
        combo_fill(&imp.disk_bus_row, &["virtio", "sata", "scsi", "usb"], None);
        combo_fill(&imp.cdrom_bus_row, &["sata", "scsi", "ide", "usb"], None);
        combo_fill(
            &imp.nic_model_row,
            &["virtio", "e1000e", "e1000", "rtl8139"],
            None,
        );
        combo_fill(&imp.graphics_type_row, &["vnc", "spice"], None);
        combo_fill(&imp.sound_model_row, &["ich9", "ich6", "ac97"], None);
        combo_fill(&imp.input_type_row, &["tablet", "keyboard", "mouse"], None);
        combo_fill(&imp.input_bus_row, &["usb", "virtio"], None);
        combo_fill(&imp.watchdog_model_row, &["i6300esb", "itco"], None);
        combo_fill(
            &imp.watchdog_action_row,
            &["reset", "poweroff", "shutdown", "pause", "dump", "none"],
            None,
        );
        combo_fill(&imp.tpm_model_row, &["tpm-crb", "tpm-tis"], None);
        combo_fill(&imp.tpm_version_row, &["2.0", "1.2"], None);
        combo_fill(&imp.serial_kind_row, &["serial", "console"], None);
        if let Some(connection) = self.domain().and_then(|d| d.connection()) {
            imp.disk_chooser.set_connection(Some(connection.clone()));
            imp.network_chooser.set_connection(Some(connection));
        }
        self.read_host_devices();
        imp.add_button.connect_clicked(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            move |_| {
                glib::spawn_future_local(async move { dialog.add_device().await });
            }
        ));
        self.kind_changed();
    }

    fn kind(&self) -> &'static str {
        Self::KINDS
            .get(self.imp().kind_row.selected() as usize)
            .copied()
            .unwrap_or("disk")
    }

    fn hotplugs(&self) -> bool {
        let imp = self.imp();
        let bus = match self.kind() {
            "disk" => combo_value(&imp.disk_bus_row),
            "cdrom" => combo_value(&imp.cdrom_bus_row),
            _ => None,
        };
        hotplugs(self.kind(), bus.as_deref())
    }

    fn kind_changed(&self) {
        let imp = self.imp();
        let kind = self.kind();
        // USB and PCI share one form: the host's devices of that bus.
        let host_device = matches!(kind, "usb-host" | "pci-host");
        imp.forms
            .set_visible_child_name(if host_device { "hostdev" } else { kind });
        if host_device {
            imp.host_device_chooser.set_usb(kind == "usb-host");
        }
        self.clear_problems();
        let running = self.domain().is_some_and(|d| d.state().is_active());
        imp.where_label
            .set_label(&match (running, self.hotplugs()) {
                (false, _) => gettext(
                    "Added to the configuration: the virtual machine has it when it next starts.",
                ),
                (true, true) => gettext("Plugged in now, and kept for the next starts."),
                (true, false) => gettext(
                    "Added to the configuration: it applies when the virtual machine next starts.",
                ),
            });
    }

    /// Makes the device: a new volume first when the disk needs one, then the
    /// device in the definition, plugged in when it can be. On a refusal the new
    /// volume is deleted again and the dialog says libvirt's words.
    async fn add_device(&self) {
        let imp = self.imp();
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        self.clear_problems();
        let doc = match connection.domain_document(&domain, false).await {
            Ok(doc) => doc,
            Err(e) => return self.fail(&crate::model::error_text(&e)),
        };
        let new_volume = match (self.kind(), imp.disk_chooser.storage().0) {
            ("disk", Storage::NewVolume { pool, size_gib }) => Some((pool, size_gib)),
            _ => None,
        };
        // Checked before any volume is made.
        if let Err(e) = self.write_device(&mut doc.clone(), new_volume.as_ref().map(|_| "/")) {
            return self.show_field_error(e);
        }
        self.set_busy(true);
        let mut volume = None;
        if let Some((pool, size_gib)) = new_volume {
            let pool = match connection.pool_for_new_volume(&pool).await {
                Ok(pool) => pool,
                Err(NewVmError::Host(HostError::Gone)) => {
                    imp.disk_chooser.set_error(Some(gettext_f(
                        "The pool “{pool}” is not there.",
                        &[("pool", &pool)],
                    )));
                    return self.set_busy(false);
                }
                Err(e) => {
                    imp.disk_chooser.set_error(Some(e.to_string()));
                    return self.set_busy(false);
                }
            };
            let taken = pool.volume_names();
            let name = (1..)
                .map(|n| format!("{}-{n}.qcow2", domain.name()))
                .find(|v| !taken.contains(v))
                .unwrap_or_default();
            let spec = VolumeSpec {
                name,
                format: DiskFormat::Qcow2,
                capacity: size_gib << 30,
                backing: None,
            };
            match pool.create_volume(spec).await {
                Ok(v) => volume = Some(v),
                Err(e) => {
                    imp.disk_chooser.set_error(Some(e.to_string()));
                    return self.set_busy(false);
                }
            }
        }
        let mut after = doc;
        let key = match self.write_device(&mut after, volume.as_ref().map(|v| v.path()).as_deref())
        {
            Ok(key) => key,
            Err(e) => {
                self.set_busy(false);
                return self.show_field_error(e);
            }
        };
        let r = connection
            .add_device(&domain, after, &key, self.hotplugs())
            .await;
        self.set_busy(false);
        match r {
            Ok(applies) => {
                let text = match applies {
                    Applies::Now => gettext("Added now, and for the next starts."),
                    Applies::NextBoot => {
                        gettext("Added. It applies when the virtual machine next starts.")
                    }
                    Applies::Saved => gettext("Added."),
                };
                self.emit_by_name::<()>("added", &[&text]);
                self.close();
            }
            Err(e) => {
                if let Some(v) = volume {
                    if let Err(d) = v.delete().await {
                        tracing::warn!(error = %d, "the new volume could not be deleted again");
                    }
                }
                if matches!(e, crate::model::details::DetailsError::ChangedMeanwhile) {
                    // Nothing was written; the next Add reads the definition again.
                    tracing::info!("definition changed meanwhile; read again on the next Add");
                }
                self.fail(&e.text());
            }
        }
    }

    /// Lists the host's devices in the host device form, marking those the VM has.
    fn read_host_devices(&self) {
        let Some(domain) = self.domain() else { return };
        let Some(connection) = domain.connection() else {
            return;
        };
        self.imp().host_device_chooser.load(&connection);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                if let Ok(doc) = connection.domain_document(&domain, false).await {
                    let taken = doc
                        .devices_of::<Hostdev>()
                        .into_iter()
                        .map(|(_, h)| h.source)
                        .collect();
                    dialog.imp().host_device_chooser.set_taken(taken);
                }
            }
        ));
    }

    fn fail(&self, text: &str) {
        show_error(&self.imp().failure_label, None, Some(text.to_owned()));
    }

    fn set_busy(&self, busy: bool) {
        let imp = self.imp();
        imp.spinner.set_visible(busy);
        imp.spinner.set_spinning(busy);
        imp.add_button.set_sensitive(!busy);
    }
}
