//! A sound card's page: its model, for the VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Sound};

/// The models QEMU on x86 offers, the recommended first (virt-manager's list).
const MODELS: [&str; 4] = ["ich9", "ich6", "ac97", "usb"];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-sound-page.ui")]
    pub struct HwSoundPage {
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        pub(super) key: RefCell<Option<DeviceKey>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwSoundPage {
        const NAME: &'static str = "VireoHwSoundPage";
        type Type = super::HwSoundPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwSoundPage {}
    impl WidgetImpl for HwSoundPage {}
    impl BinImpl for HwSoundPage {}
}

glib::wrapper! {
    /// A sound card's page of the hardware view.
    pub struct HwSoundPage(ObjectSubclass<imp::HwSoundPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwSoundPage {
    /// The page of the sound card `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the model `model`, as its row does.
    pub fn set_model(&self, model: &str) {
        super::combo_select(&self.imp().model_row, model);
    }
}

impl Editor for HwSoundPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        if let Ok(sound) = dom.device::<Sound>(&key) {
            combo_fill(&self.imp().model_row, &MODELS, sound.model.as_deref());
        }
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let model = combo_value(&self.imp().model_row);
        dom.edit_device(&key, |s: &mut Sound| {
            if model.is_some() {
                s.model = model;
            }
        })
        .map_err(|e| e.to_string())
    }
}
