//! A TPM's page: its model, and its backend: the emulator (swtpm, with the TPM
//! version) or the host's own TPM passed through. For the VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{
    choice_value, choices_fill, clear_field_errors, combo_fill, combo_value, field_error, Editor,
    HostLimits,
};
use crate::model::details::{DeviceKey, DomainXml, Tpm};

const MODELS: [&str; 3] = ["tpm-crb", "tpm-tis", "tpm-spapr"];
const VERSIONS: [&str; 2] = ["2.0", "1.2"];
/// The host's TPM when none is written.
const HOST_TPM: &str = "/dev/tpm0";

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-tpm-page.ui")]
    pub struct HwTpmPage {
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) backend_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) version_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) device_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) backends: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwTpmPage {
        const NAME: &'static str = "VireoHwTpmPage";
        type Type = super::HwTpmPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwTpmPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            super::super::clear_error_on_edit(&self.device_row, &self.error_label);
            self.backend_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.follow_backend()
            ));
        }
    }
    impl WidgetImpl for HwTpmPage {}
    impl BinImpl for HwTpmPage {}
}

glib::wrapper! {
    /// A TPM's page of the hardware view.
    pub struct HwTpmPage(ObjectSubclass<imp::HwTpmPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwTpmPage {
    /// The page of the TPM `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the model `model`, as its row does.
    pub fn set_model(&self, model: &str) {
        super::combo_select(&self.imp().model_row, model);
    }

    fn backend(&self) -> Option<String> {
        let imp = self.imp();
        choice_value(&imp.backend_row, &imp.backends.borrow())
    }

    fn follow_backend(&self) {
        let imp = self.imp();
        let backend = self.backend();
        imp.version_row
            .set_visible(backend.as_deref() == Some("emulator"));
        imp.device_row
            .set_visible(backend.as_deref() == Some("passthrough"));
    }
}

impl Editor for HwTpmPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(tpm) = dom.device::<Tpm>(&key) else {
            return;
        };
        let imp = self.imp();
        clear_field_errors(&[imp.device_row.upcast_ref()], &imp.error_label);
        combo_fill(&imp.model_row, &MODELS, tpm.model.as_deref());
        let backends = choices_fill(
            &imp.backend_row,
            &[
                ("emulator", gettext("Emulated (swtpm)")),
                ("passthrough", gettext("The host’s TPM")),
            ],
            Some(tpm.backend_type.as_deref().unwrap_or("emulator")),
        );
        imp.backends.replace(backends);
        combo_fill(
            &imp.version_row,
            &VERSIONS,
            Some(tpm.backend_version.as_deref().unwrap_or("2.0")),
        );
        imp.device_row
            .set_text(tpm.device_path.as_deref().unwrap_or(HOST_TPM));
        self.follow_backend();
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        clear_field_errors(&[imp.device_row.upcast_ref()], &imp.error_label);
        let old = dom.device::<Tpm>(&key).map_err(|e| e.to_string())?;
        let Some(backend) = self.backend() else {
            return Ok(());
        };
        let device = imp.device_row.text().trim().to_owned();
        if backend == "passthrough" && !device.starts_with('/') {
            return Err(field_error(
                &*imp.device_row,
                &imp.error_label,
                gettext("Enter the full path of the host’s TPM, such as /dev/tpm0."),
            ));
        }
        let version = combo_value(&imp.version_row);
        // What the page shows when nothing is written: keep it unwritten.
        let version = if old.backend_version.is_none() && version.as_deref() == Some("2.0") {
            None
        } else {
            version
        };
        let changed = old.backend_type.as_deref().unwrap_or("emulator") != backend
            || match backend.as_str() {
                "emulator" => old.backend_version != version,
                _ => old.device_path.as_deref() != Some(device.as_str()),
            };
        if changed {
            let (version, device) = match backend.as_str() {
                "emulator" => (version.as_deref(), None),
                _ => (old.backend_version.as_deref(), Some(device.as_str())),
            };
            dom.set_tpm_backend(&key, &backend, version, device)
                .map_err(|e| e.to_string())?;
        }
        let model = combo_value(&imp.model_row);
        dom.edit_device(&key, |t: &mut Tpm| {
            if model.is_some() {
                t.model = model;
            }
        })
        .map_err(|e| e.to_string())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
