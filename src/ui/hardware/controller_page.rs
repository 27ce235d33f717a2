//! A controller's page: its type and index, and its model where there is a choice (a
//! USB controller's version, a SCSI controller's kind), for the VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{choice_value, choices_fill, Editor, HostLimits};
use crate::model::details::{Controller, DeviceKey, DomainXml};

/// The models a controller of `kind` can be switched between (empty: none here).
fn models(kind: &str) -> Vec<(&'static str, String)> {
    match kind {
        "usb" => vec![
            ("qemu-xhci", gettext("USB 3 (xHCI)")),
            ("ich9-ehci1", gettext("USB 2 (EHCI)")),
            ("piix3-uhci", gettext("USB 1 (UHCI)")),
        ],
        "scsi" => vec![
            ("virtio-scsi", "VirtIO SCSI".into()),
            ("lsilogic", "LSI Logic".into()),
        ],
        _ => Vec::new(),
    }
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-controller-page.ui")]
    pub struct HwControllerPage {
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) index_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) fixed_model_row: TemplateChild<adw::ActionRow>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) models: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwControllerPage {
        const NAME: &'static str = "VireoHwControllerPage";
        type Type = super::HwControllerPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwControllerPage {}
    impl WidgetImpl for HwControllerPage {}
    impl BinImpl for HwControllerPage {}
}

glib::wrapper! {
    /// A controller's page of the hardware view.
    pub struct HwControllerPage(ObjectSubclass<imp::HwControllerPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwControllerPage {
    /// The page of the controller `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the model `model` (`qemu-xhci`...), as its row does.
    pub fn set_model(&self, model: &str) {
        let imp = self.imp();
        let index = imp.models.borrow().iter().position(|m| m == model);
        if let Some(i) = index {
            imp.model_row.set_selected(i as u32);
        }
    }
}

impl Editor for HwControllerPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(c) = dom.device::<Controller>(&key) else {
            return;
        };
        let imp = self.imp();
        let kind = c.controller_type.clone().unwrap_or_default();
        imp.type_row.set_subtitle(&match kind.as_str() {
            "virtio-serial" => "VirtIO Serial".to_owned(),
            "usb" | "pci" | "scsi" | "sata" | "ide" | "fdc" | "ccid" | "xenbus" => {
                kind.to_uppercase()
            }
            other => other.to_owned(),
        });
        imp.index_row
            .set_subtitle(c.index.as_deref().unwrap_or("0"));
        // A USB 2 controller's USB 1 companion goes with its master.
        let companion = dom
            .resolve(&key)
            .is_ok_and(|el| dom.doc().child(el, "master").is_some());
        let mut choices = if companion { Vec::new() } else { models(&kind) };
        let choosable = !choices.is_empty();
        if choosable && c.model.is_none() {
            // No model written: the hypervisor's, until one is chosen.
            choices.insert(0, ("", gettext("Hypervisor default")));
        }
        let values = choices_fill(
            &imp.model_row,
            &choices,
            Some(c.model.as_deref().unwrap_or("")),
        );
        imp.models.replace(values);
        imp.model_row.set_visible(choosable);
        imp.fixed_model_row.set_visible(!choosable);
        imp.fixed_model_row
            .set_subtitle(c.model.as_deref().unwrap_or("—"));
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        if !imp.model_row.is_visible() {
            return Ok(());
        }
        let old = dom.device::<Controller>(&key).map_err(|e| e.to_string())?;
        match choice_value(&imp.model_row, &imp.models.borrow()) {
            Some(model) if !model.is_empty() && old.model.as_deref() != Some(model.as_str()) => dom
                .set_controller_model(&key, &model)
                .map_err(|e| e.to_string()),
            _ => Ok(()),
        }
    }
}
