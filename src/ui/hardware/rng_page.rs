//! A random number generator's page: where the guest's randomness comes from (a
//! host device such as /dev/urandom, or QEMU's own generator), for the VM's next
//! start. An EGD backend (a socket) is shown as it is.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{choice_value, choices_fill, clear_field_errors, field_error, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Rng, RNG_DEFAULT_SOURCE};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-rng-page.ui")]
    pub struct HwRngPage {
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) backend_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) source_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) backends: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwRngPage {
        const NAME: &'static str = "VireoHwRngPage";
        type Type = super::HwRngPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwRngPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            super::super::clear_error_on_edit(&self.source_row, &self.error_label);
            self.backend_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.follow_backend()
            ));
        }
    }
    impl WidgetImpl for HwRngPage {}
    impl BinImpl for HwRngPage {}
}

glib::wrapper! {
    /// A random number generator's page of the hardware view.
    pub struct HwRngPage(ObjectSubclass<imp::HwRngPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwRngPage {
    /// The page of the RNG `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Types `path` as the host device, as a person does.
    pub fn set_source(&self, path: &str) {
        self.imp().source_row.set_text(path);
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

    fn backend(&self) -> Option<String> {
        let imp = self.imp();
        choice_value(&imp.backend_row, &imp.backends.borrow())
    }

    fn follow_backend(&self) {
        let random = self.backend().as_deref() == Some("random");
        self.imp().source_row.set_visible(random);
    }
}

impl Editor for HwRngPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(rng) = dom.device::<Rng>(&key) else {
            return;
        };
        let imp = self.imp();
        clear_field_errors(&[imp.source_row.upcast_ref()], &imp.error_label);
        imp.model_row
            .set_subtitle(rng.model.as_deref().unwrap_or("virtio"));
        let backend = rng.backend_model.as_deref().unwrap_or("random");
        let backends = choices_fill(
            &imp.backend_row,
            &[
                ("random", gettext("Host device")),
                ("builtin", gettext("QEMU’s own generator")),
            ],
            Some(backend),
        );
        imp.backends.replace(backends);
        // An EGD daemon's socket has no choices here.
        imp.backend_row.set_sensitive(backend != "egd");
        imp.source_row.set_text(
            rng.backend_path
                .as_deref()
                .unwrap_or(if backend == "random" {
                    RNG_DEFAULT_SOURCE
                } else {
                    ""
                }),
        );
        self.follow_backend();
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        clear_field_errors(&[imp.source_row.upcast_ref()], &imp.error_label);
        let Some(backend) = self.backend().filter(|b| b != "egd") else {
            return Ok(());
        };
        let source = imp.source_row.text().trim().to_owned();
        if backend == "random" && !source.starts_with('/') {
            return Err(field_error(
                &*imp.source_row,
                &imp.error_label,
                gettext("Enter the full path of a host device, such as /dev/urandom."),
            ));
        }
        let old = dom.device::<Rng>(&key).map_err(|e| e.to_string())?;
        let unchanged = old.backend_model.as_deref().unwrap_or("random") == backend
            && (backend != "random" || old.backend_path.as_deref() == Some(source.as_str()));
        if unchanged {
            return Ok(());
        }
        dom.set_rng_backend(&key, &backend, Some(&source))
            .map_err(|e| e.to_string())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
