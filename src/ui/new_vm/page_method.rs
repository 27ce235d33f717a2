//! Step 1: the connection, the architecture and machine, and how to install.

use std::cell::RefCell;

use adw::prelude::*;
use gettextrs::gettext;

use super::{messages::problems_text, obj, show_error, string_list};
use crate::virt::new_vm::host::HostInfo;
use crate::virt::new_vm::{Field, Problem};

/// The install method chosen by the radio rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// ISO file or pool volume.
    Media,
    /// Network tree.
    Url,
    /// Existing disk image.
    Import,
    /// Cloud image + cloud-init.
    Cloud,
    /// Empty VM.
    Manual,
}

/// The widgets of the first page.
pub struct MethodPage {
    pub page: adw::PreferencesPage,
    pub connection_row: adw::ComboRow,
    pub arch_row: adw::ComboRow,
    pub machine_row: adw::ComboRow,
    pub virt_row: adw::ActionRow,
    pub media_check: gtk::CheckButton,
    pub url_check: gtk::CheckButton,
    pub import_check: gtk::CheckButton,
    pub cloud_check: gtk::CheckButton,
    pub manual_check: gtk::CheckButton,
    pub media_group: adw::PreferencesGroup,
    pub url_group: adw::PreferencesGroup,
    pub image_group: adw::PreferencesGroup,
    pub cloud_group: adw::PreferencesGroup,
    pub iso_row: adw::EntryRow,
    pub iso_browse: gtk::Button,
    pub iso_volume_row: adw::ComboRow,
    pub media_error: gtk::Label,
    pub url_row: adw::EntryRow,
    pub kernel_args_row: adw::EntryRow,
    pub url_error: gtk::Label,
    pub image_row: adw::EntryRow,
    pub image_browse: gtk::Button,
    pub image_error: gtk::Label,
    pub cloud_user_row: adw::EntryRow,
    pub cloud_password_row: adw::PasswordEntryRow,
    pub cloud_key_row: adw::EntryRow,
    pub cloud_error: gtk::Label,
    arches: RefCell<Vec<String>>,
    machines: RefCell<Vec<String>>,
    /// (pool, volume) per row of `iso_volume_row` after the "none" row.
    volumes: RefCell<Vec<(String, String)>>,
}

impl MethodPage {
    /// Builds the page from its template.
    pub fn new() -> Self {
        let b = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/new-vm-method.ui");
        let p = MethodPage {
            page: obj(&b, "page"),
            connection_row: obj(&b, "connection_row"),
            arch_row: obj(&b, "arch_row"),
            machine_row: obj(&b, "machine_row"),
            virt_row: obj(&b, "virt_row"),
            media_check: obj(&b, "media_check"),
            url_check: obj(&b, "url_check"),
            import_check: obj(&b, "import_check"),
            cloud_check: obj(&b, "cloud_check"),
            manual_check: obj(&b, "manual_check"),
            media_group: obj(&b, "media_group"),
            url_group: obj(&b, "url_group"),
            image_group: obj(&b, "image_group"),
            cloud_group: obj(&b, "cloud_group"),
            iso_row: obj(&b, "iso_row"),
            iso_browse: obj(&b, "iso_browse"),
            iso_volume_row: obj(&b, "iso_volume_row"),
            media_error: obj(&b, "media_error"),
            url_row: obj(&b, "url_row"),
            kernel_args_row: obj(&b, "kernel_args_row"),
            url_error: obj(&b, "url_error"),
            image_row: obj(&b, "image_row"),
            image_browse: obj(&b, "image_browse"),
            image_error: obj(&b, "image_error"),
            cloud_user_row: obj(&b, "cloud_user_row"),
            cloud_password_row: obj(&b, "cloud_password_row"),
            cloud_key_row: obj(&b, "cloud_key_row"),
            cloud_error: obj(&b, "cloud_error"),
            arches: RefCell::default(),
            machines: RefCell::default(),
            volumes: RefCell::default(),
        };
        // The guest user is named after the local one (not "root": cloud images keep
        // root locked and expect an ordinary sudo user).
        let me = glib::user_name().to_string_lossy().to_lowercase();
        p.cloud_user_row
            .set_text(if me == "root" { "user" } else { me.as_str() });
        p
    }

    /// The chosen method.
    pub fn kind(&self) -> MethodKind {
        if self.url_check.is_active() {
            MethodKind::Url
        } else if self.import_check.is_active() {
            MethodKind::Import
        } else if self.cloud_check.is_active() {
            MethodKind::Cloud
        } else if self.manual_check.is_active() {
            MethodKind::Manual
        } else {
            MethodKind::Media
        }
    }

    /// Shows the inputs of the chosen method only.
    pub fn update_visibility(&self) {
        let k = self.kind();
        self.media_group.set_visible(k == MethodKind::Media);
        self.url_group.set_visible(k == MethodKind::Url);
        self.image_group
            .set_visible(matches!(k, MethodKind::Import | MethodKind::Cloud));
        self.cloud_group.set_visible(k == MethodKind::Cloud);
        self.image_group.set_title(&if k == MethodKind::Cloud {
            gettext("Cloud Image")
        } else {
            gettext("Disk Image")
        });
    }

    /// Fills the host's choices.
    pub fn fill_host(&self, host: &HostInfo) {
        let arches = host.caps.hvm_arches();
        self.arch_row.set_model(Some(&string_list(&arches)));
        self.arch_row.set_selected(0);
        *self.arches.borrow_mut() = arches;
        self.fill_machines(host);
        let mut labels = vec![gettext("None")];
        let mut vols = Vec::new();
        for p in &host.pools {
            for v in &p.iso_volumes {
                labels.push(format!("{} — {}", v, p.name));
                vols.push((p.name.clone(), v.clone()));
            }
        }
        self.iso_volume_row.set_model(Some(&string_list(&labels)));
        self.iso_volume_row.set_selected(0);
        self.iso_volume_row.set_sensitive(!vols.is_empty());
        *self.volumes.borrow_mut() = vols;
    }

    /// Refills the machine types for the chosen architecture.
    pub fn fill_machines(&self, host: &HostInfo) {
        let arch = self.arch();
        let machines: Vec<String> = host
            .caps
            .machine_choices(&arch)
            .into_iter()
            .map(|m| m.name)
            .collect();
        let default = host.caps.default_machine(&arch).unwrap_or_default();
        self.machine_row.set_model(Some(&string_list(&machines)));
        let i = machines.iter().position(|m| *m == default).unwrap_or(0);
        self.machine_row.set_selected(i as u32);
        *self.machines.borrow_mut() = machines;
        let text = match host.caps.best_domain_type(&arch).as_deref() {
            Some("kvm") => gettext("KVM (hardware acceleration)"),
            Some("qemu") => gettext("QEMU emulation (no KVM on this host: slower)"),
            Some(other) => other.to_owned(),
            None => gettext("Unavailable"),
        };
        self.virt_row.set_subtitle(&text);
    }

    /// The chosen architecture.
    pub fn arch(&self) -> String {
        self.arches
            .borrow()
            .get(self.arch_row.selected() as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// The chosen machine type.
    pub fn machine(&self) -> String {
        self.machines
            .borrow()
            .get(self.machine_row.selected() as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// The chosen pool volume (pool, volume), when one is picked instead of a file.
    pub fn iso_volume(&self) -> Option<(String, String)> {
        let i = self.iso_volume_row.selected() as usize;
        (i > 0)
            .then(|| self.volumes.borrow().get(i - 1).cloned())
            .flatten()
    }

    /// Marks this page's problems.
    pub fn show_problems(&self, problems: &[(Field, Problem)]) {
        let text = |f: Field| problems_text(problems, |pf| pf == f);
        show_error(
            &self.media_error,
            Some(self.iso_row.upcast_ref()),
            text(Field::Media),
        );
        show_error(
            &self.url_error,
            Some(self.url_row.upcast_ref()),
            text(Field::Url),
        );
        show_error(
            &self.image_error,
            Some(self.image_row.upcast_ref()),
            text(Field::Image),
        );
        show_error(
            &self.cloud_error,
            Some(self.cloud_user_row.upcast_ref()),
            text(Field::CloudInit),
        );
    }
}

impl Default for MethodPage {
    fn default() -> Self {
        Self::new()
    }
}

use gtk::glib;
