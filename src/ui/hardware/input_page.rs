//! An input device's page: what it is (tablet, mouse, keyboard) and the bus it is on,
//! for the VM's next start. Host devices passed through (`passthrough`, `evdev`) are
//! shown as they are.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Input};

const TYPES: [&str; 3] = ["tablet", "mouse", "keyboard"];
const BUSES: [&str; 3] = ["usb", "virtio", "ps2"];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-input-page.ui")]
    pub struct HwInputPage {
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) bus_row: TemplateChild<adw::ComboRow>,
        pub(super) key: RefCell<Option<DeviceKey>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwInputPage {
        const NAME: &'static str = "VireoHwInputPage";
        type Type = super::HwInputPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwInputPage {}
    impl WidgetImpl for HwInputPage {}
    impl BinImpl for HwInputPage {}
}

glib::wrapper! {
    /// An input device's page of the hardware view.
    pub struct HwInputPage(ObjectSubclass<imp::HwInputPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwInputPage {
    /// The page of the input device `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the bus `bus`, as its row does.
    pub fn set_bus(&self, bus: &str) {
        super::combo_select(&self.imp().bus_row, bus);
    }
}

impl Editor for HwInputPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(input) = dom.device::<Input>(&key) else {
            return;
        };
        let imp = self.imp();
        let kind = input.input_type.as_deref().unwrap_or("mouse");
        // A host's input device passed through has no choices here.
        let ours = TYPES.contains(&kind);
        combo_fill(&imp.type_row, &TYPES, Some(kind));
        // libvirt puts a device without a bus on PS/2 (a tablet on USB).
        let bus = input
            .bus
            .as_deref()
            .unwrap_or(if kind == "tablet" { "usb" } else { "ps2" });
        combo_fill(&imp.bus_row, &BUSES, Some(bus));
        imp.type_row.set_sensitive(ours);
        imp.bus_row.set_sensitive(ours);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        if !imp.type_row.is_sensitive() {
            return Ok(());
        }
        let kind = combo_value(&imp.type_row);
        let bus = combo_value(&imp.bus_row);
        dom.edit_device(&key, |i: &mut Input| {
            let implied = if i.input_type.as_deref() == Some("tablet") {
                "usb"
            } else {
                "ps2"
            };
            if kind.is_some() {
                i.input_type = kind;
            }
            if bus.as_deref() != Some(i.bus.as_deref().unwrap_or(implied)) {
                i.bus = bus;
            }
        })
        .map_err(|e| e.to_string())
    }
}
