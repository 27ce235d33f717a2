//! A network card's page: what it is connected to (one of the host's virtual networks,
//! a host bridge or user-mode networking, with the network chooser of Add Hardware),
//! its model, its MAC address, and its link state, which a running
//! VM changes at once.

use std::cell::RefCell;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{combo_fill, combo_value, Editor, HardwareView, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Interface, InterfaceSource};
use crate::model::new_vm::NetworkChoice;
use crate::ui::pickers::NetworkChooser;

const MODELS: [&str; 4] = ["virtio", "e1000e", "e1000", "rtl8139"];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-nic-page.ui")]
    pub struct HwNicPage {
        #[template_child]
        pub(super) network_chooser: TemplateChild<NetworkChooser>,
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) model_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) mac_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) link_switch: TemplateChild<gtk::Switch>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        /// The model row's value as loaded: a NIC without a model shows the first one,
        /// which is no change of a person's.
        pub(super) shown_model: RefCell<Option<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwNicPage {
        const NAME: &'static str = "VireoHwNicPage";
        type Type = super::HwNicPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            NetworkChooser::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwNicPage {}

    impl WidgetImpl for HwNicPage {
        fn map(&self) {
            self.parent_map();
            // The host's networks are offered once the page knows its VM's host.
            if self.network_chooser.connection().is_none() {
                let connection = self
                    .obj()
                    .ancestor(HardwareView::static_type())
                    .and_downcast::<HardwareView>()
                    .and_then(|view| view.domain())
                    .and_then(|domain| domain.connection());
                self.network_chooser.set_connection(connection);
            }
        }
    }
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
        let choice = match &nic.source {
            InterfaceSource::Network(n) => Some(NetworkChoice::Nat { network: n.clone() }),
            InterfaceSource::Bridge(b) => Some(NetworkChoice::Bridge { name: b.clone() }),
            InterfaceSource::User => Some(NetworkChoice::User),
            InterfaceSource::Direct { .. } | InterfaceSource::Other(_) => None,
        };
        // macvtap and other types stay as they are, shown but not offered.
        let kind = match &nic.source {
            InterfaceSource::Direct { dev, .. } => {
                format!("{} · {dev}", gettext("Host device (macvtap)"))
            }
            InterfaceSource::Other(t) => t.clone(),
            _ => String::new(),
        };
        imp.type_row.set_subtitle(&kind);
        imp.type_row.set_visible(choice.is_none());
        imp.network_chooser.set_visible(choice.is_some());
        if let Some(choice) = choice {
            imp.network_chooser.choose(&choice);
        }
        combo_fill(&imp.model_row, &MODELS, nic.model.as_deref());
        imp.shown_model.replace(combo_value(&imp.model_row));
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
        let chooser = &imp.network_chooser;
        if chooser.is_visible() && chooser.settled() {
            let source = match chooser.network().0 {
                NetworkChoice::Nat { network } => InterfaceSource::Network(network),
                NetworkChoice::Bridge { name } if name.is_empty() => {
                    return Err(gettext("Enter the name of the host bridge (br0)."));
                }
                NetworkChoice::Bridge { name } => InterfaceSource::Bridge(name),
                NetworkChoice::User => InterfaceSource::User,
                NetworkChoice::None => {
                    return Err(gettext(
                        "A network card is connected to something; to take it away, use Remove.",
                    ));
                }
            };
            nic.source = source;
        }
        let model = combo_value(&imp.model_row);
        if model != *imp.shown_model.borrow() && model != old.model && model.is_some() {
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
