//! A network card's page: what it is connected to (a virtual network or a host
//! bridge, by name), its model, its MAC address, and its link state, which a running
//! VM changes at once.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Interface, InterfaceSource};

const MODELS: [&str; 4] = ["virtio", "e1000e", "e1000", "rtl8139"];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-nic-page.ui")]
    pub struct HwNicPage {
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) source_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) mac_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) link_switch: TemplateChild<gtk::Switch>,
        pub(super) key: RefCell<Option<DeviceKey>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwNicPage {
        const NAME: &'static str = "VireoHwNicPage";
        type Type = super::HwNicPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwNicPage {}
    impl WidgetImpl for HwNicPage {}
    impl BinImpl for HwNicPage {}
}

glib::wrapper! {
    /// A network card's page of the hardware view.
    pub struct HwNicPage(ObjectSubclass<imp::HwNicPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwNicPage {
    /// The page of the NIC `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Switches the link (as its switch does).
    pub fn set_link_up(&self, up: bool) {
        self.imp().link_switch.set_active(up);
    }
}

impl Editor for HwNicPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(nic) = dom.device::<Interface>(&key) else {
            return;
        };
        let imp = self.imp();
        let (kind, source, editable) = match &nic.source {
            InterfaceSource::Network(n) => (gettext("Virtual network"), n.clone(), true),
            InterfaceSource::Bridge(b) => (gettext("Host bridge"), b.clone(), true),
            InterfaceSource::Direct { dev, .. } => {
                (gettext("Host device (macvtap)"), dev.clone(), false)
            }
            InterfaceSource::User => (gettext("Usermode networking"), String::new(), false),
            InterfaceSource::Other(t) => (t.clone(), String::new(), false),
        };
        imp.type_row.set_subtitle(&kind);
        imp.source_row.set_title(&match nic.source {
            InterfaceSource::Bridge(_) => gettext("Bridge"),
            InterfaceSource::Direct { .. } => gettext("Device"),
            _ => gettext("Network"),
        });
        imp.source_row.set_text(&source);
        imp.source_row.set_visible(!source.is_empty() || editable);
        imp.source_row.set_editable(editable);
        combo_fill(&imp.model_row, &MODELS, nic.model.as_deref());
        imp.mac_row.set_subtitle(nic.mac.as_deref().unwrap_or("—"));
        imp.link_switch.set_active(nic.link_up.unwrap_or(true));
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        let old = dom.device::<Interface>(&key).map_err(|e| e.to_string())?;
        let mut nic = old.clone();
        let text = imp.source_row.text().trim().to_owned();
        match &old.source {
            InterfaceSource::Network(n) if *n != text => {
                if text.is_empty() {
                    return Err(gettext(
                        "The network card needs the name of a virtual network.",
                    ));
                }
                nic.source = InterfaceSource::Network(text);
            }
            InterfaceSource::Bridge(b) if *b != text => {
                if text.is_empty() {
                    return Err(gettext("The network card needs the name of a host bridge."));
                }
                nic.source = InterfaceSource::Bridge(text);
            }
            _ => {}
        }
        let model = combo_value(&imp.model_row);
        if model != old.model && model.is_some() {
            nic.model = model;
        }
        let up = imp.link_switch.is_active();
        if up != old.link_up.unwrap_or(true) {
            nic.link_up = Some(up);
        }
        if nic != old {
            dom.update_device(&key, &nic).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn live_update(&self, before: &DomainXml, after: &DomainXml) -> Option<String> {
        let key = self.imp().key.borrow().clone()?;
        let old = before.device::<Interface>(&key).ok()?;
        let new = after.device::<Interface>(&key).ok()?;
        // The link state changes at once; anything else waits for the next boot.
        let only_link = Interface {
            link_up: new.link_up,
            ..old.clone()
        } == new;
        (only_link && old != new)
            .then(|| after.device_xml(&key).ok())
            .flatten()
    }
}
