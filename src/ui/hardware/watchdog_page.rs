//! A watchdog's page: its model and what the host does when the guest stops feeding
//! it, for the VM's next start.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{choice_value, choices_fill, combo_fill, combo_value, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Watchdog};

const MODELS: [&str; 4] = ["i6300esb", "itco", "ib700", "diag288"];

/// The actions: what happens to the VM when its guest stops answering.
fn actions() -> Vec<(&'static str, String)> {
    vec![
        ("reset", gettext("Reset")),
        ("poweroff", gettext("Turn off")),
        ("shutdown", gettext("Shut down")),
        ("pause", gettext("Pause")),
        ("dump", gettext("Dump memory")),
        ("inject-nmi", gettext("Send an NMI")),
        ("none", gettext("Nothing")),
    ]
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-watchdog-page.ui")]
    pub struct HwWatchdogPage {
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) action_row: TemplateChild<adw::ComboRow>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) actions: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwWatchdogPage {
        const NAME: &'static str = "VireoHwWatchdogPage";
        type Type = super::HwWatchdogPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwWatchdogPage {}
    impl WidgetImpl for HwWatchdogPage {}
    impl BinImpl for HwWatchdogPage {}
}

glib::wrapper! {
    /// A watchdog's page of the hardware view.
    pub struct HwWatchdogPage(ObjectSubclass<imp::HwWatchdogPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwWatchdogPage {
    /// The page of the watchdog `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the action `action` (libvirt's word: `reset`, `poweroff`...).
    pub fn set_action(&self, action: &str) {
        let imp = self.imp();
        let index = imp.actions.borrow().iter().position(|a| a == action);
        if let Some(i) = index {
            imp.action_row.set_selected(i as u32);
        }
    }
}

impl Editor for HwWatchdogPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(dog) = dom.device::<Watchdog>(&key) else {
            return;
        };
        let imp = self.imp();
        combo_fill(&imp.model_row, &MODELS, dog.model.as_deref());
        // libvirt's default action is reset.
        let actions = choices_fill(
            &imp.action_row,
            &actions(),
            Some(dog.action.as_deref().unwrap_or("reset")),
        );
        imp.actions.replace(actions);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        let model = combo_value(&imp.model_row);
        let action = choice_value(&imp.action_row, &imp.actions.borrow());
        dom.edit_device(&key, |w: &mut Watchdog| {
            if model.is_some() {
                w.model = model;
            }
            if action.as_deref() != Some(w.action.as_deref().unwrap_or("reset")) {
                w.action = action;
            }
        })
        .map_err(|e| e.to_string())
    }
}
