//! A shared directory's page: the host directory, the mount tag the guest mounts it
//! by, and the driver (virtiofs, or 9p), for the VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{
    choice_value, choices_fill, clear_error_on_edit, clear_field_errors, field_error, Editor,
    HostLimits,
};
use crate::model::details::{DeviceKey, DomainXml, Filesystem};

/// virtiofs is the fast one (it shares the guest's memory with the host); 9p serves
/// older guests.
fn drivers() -> Vec<(&'static str, String)> {
    vec![("virtiofs", "virtiofs".into()), ("path", "9p".into())]
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-filesystem-page.ui")]
    pub struct HwFilesystemPage {
        #[template_child]
        pub(super) source_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) tag_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) driver_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) drivers: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwFilesystemPage {
        const NAME: &'static str = "VireoHwFilesystemPage";
        type Type = super::HwFilesystemPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwFilesystemPage {
        fn constructed(&self) {
            self.parent_constructed();
            clear_error_on_edit(&self.source_row, &self.error_label);
            clear_error_on_edit(&self.tag_row, &self.error_label);
        }
    }
    impl WidgetImpl for HwFilesystemPage {}
    impl BinImpl for HwFilesystemPage {}
}

glib::wrapper! {
    /// A shared directory's page of the hardware view.
    pub struct HwFilesystemPage(ObjectSubclass<imp::HwFilesystemPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwFilesystemPage {
    /// The page of the shared directory `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Types the host directory and the mount tag, as a person does.
    pub fn set_share(&self, source: &str, tag: &str) {
        self.imp().source_row.set_text(source);
        self.imp().tag_row.set_text(tag);
    }

    /// Chooses the driver (`virtiofs`, `path`), as its row does.
    pub fn set_driver(&self, driver: &str) {
        let imp = self.imp();
        let index = imp.drivers.borrow().iter().position(|d| d == driver);
        if let Some(i) = index {
            imp.driver_row.set_selected(i as u32);
        }
    }

    /// What the page says is wrong with a field (empty: nothing).
    pub fn problem(&self) -> String {
        let label = &self.imp().error_label;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }

    fn rows(&self) -> [gtk::Widget; 2] {
        let imp = self.imp();
        [imp.source_row.get().upcast(), imp.tag_row.get().upcast()]
    }
}

impl Editor for HwFilesystemPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(fs) = dom.device::<Filesystem>(&key) else {
            return;
        };
        let imp = self.imp();
        clear_field_errors(&self.rows().iter().collect::<Vec<_>>(), &imp.error_label);
        imp.source_row
            .set_text(fs.source_dir.as_deref().unwrap_or_default());
        imp.tag_row
            .set_text(fs.target_dir.as_deref().unwrap_or_default());
        // No driver written: libvirt's default for QEMU, 9p.
        let drivers = choices_fill(
            &imp.driver_row,
            &drivers(),
            Some(fs.driver.as_deref().unwrap_or("path")),
        );
        imp.drivers.replace(drivers);
        // Only a host directory is edited here.
        let editable = fs.fs_type == "mount";
        for row in self.rows() {
            row.set_sensitive(editable);
        }
        imp.driver_row.set_sensitive(editable);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        clear_field_errors(&self.rows().iter().collect::<Vec<_>>(), &imp.error_label);
        if !imp.driver_row.is_sensitive() {
            return Ok(());
        }
        let source = imp.source_row.text().trim().to_owned();
        if !source.starts_with('/') {
            return Err(field_error(
                &*imp.source_row,
                &imp.error_label,
                gettext("Enter a full path on the host, starting with “/”."),
            ));
        }
        let tag = imp.tag_row.text().trim().to_owned();
        if tag.is_empty() {
            return Err(field_error(
                &*imp.tag_row,
                &imp.error_label,
                gettext("The guest mounts the directory by this tag: enter one."),
            ));
        }
        let old = dom.device::<Filesystem>(&key).map_err(|e| e.to_string())?;
        let driver = choice_value(&imp.driver_row, &imp.drivers.borrow());
        if driver.is_some()
            && old.driver.as_deref().unwrap_or("path") != driver.as_deref().unwrap_or("path")
        {
            dom.set_filesystem_driver(&key, driver.as_deref().unwrap_or("path"))
                .map_err(|e| e.to_string())?;
        }
        let mut fs: Filesystem = dom.device(&key).map_err(|e| e.to_string())?;
        if fs.source_dir.as_deref() != Some(source.as_str()) {
            fs.source_dir = Some(source);
        }
        if fs.target_dir.as_deref() != Some(tag.as_str()) {
            fs.target_dir = Some(tag);
        }
        dom.update_device(&key, &fs).map_err(|e| e.to_string())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
