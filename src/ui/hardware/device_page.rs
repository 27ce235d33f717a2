//! The page of a device Vireo has no editor for yet: its title and its XML.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HostLimits};
use crate::model::details::{device_title, DeviceKey, DomainXml};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-device-page.ui")]
    pub struct HwDevicePage {
        #[template_child]
        pub(super) group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) xml_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwDevicePage {
        const NAME: &'static str = "VireoHwDevicePage";
        type Type = super::HwDevicePage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwDevicePage {}
    impl WidgetImpl for HwDevicePage {}
    impl BinImpl for HwDevicePage {}
}

glib::wrapper! {
    /// A device's page that shows its XML.
    pub struct HwDevicePage(ObjectSubclass<imp::HwDevicePage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwDevicePage {
    /// The page of the device `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }
}

impl Editor for HwDevicePage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let imp = self.imp();
        imp.group.set_title(&device_title(dom, &key));
        imp.xml_label
            .set_label(&dom.device_xml(&key).unwrap_or_default());
    }

    fn write(&self, _dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        Ok(())
    }
}
