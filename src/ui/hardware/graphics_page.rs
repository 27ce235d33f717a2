//! A display's page: its protocol (VNC or SPICE, switched as virt-manager does), where
//! it listens (an address, libvirt's default, or nowhere but Vireo's own connection),
//! its port (chosen at each start, or fixed) and its password. All of it applies at the
//! VM's next start.

use std::cell::RefCell;
use std::net::IpAddr;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{choice_value, choices_fill, clear_field_errors, field_error, Editor, HostLimits};
use crate::model::details::{DeviceKey, DomainXml, Graphics, Listen};

/// The listen choices' values; other kinds (a network, a socket) are kept as read.
const LISTEN_DEFAULT: &str = "default";
const LISTEN_ADDRESS: &str = "address";
const LISTEN_NONE: &str = "none";

/// The lowest port a display may have (QEMU counts VNC displays from 5900).
const FIRST_PORT: i32 = 5900;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::HwGraphicsPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-graphics-page.ui")]
    pub struct HwGraphicsPage {
        /// The display's protocol as shown (`vnc`, `spice`).
        #[property(get)]
        pub(super) protocol: RefCell<String>,
        #[template_child]
        pub(super) type_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) listen_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) address_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) autoport_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) autoport_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub(super) port_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) port_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) password_row: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub(super) switch_note: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) error_label: TemplateChild<gtk::Label>,
        pub(super) key: RefCell<Option<DeviceKey>>,
        pub(super) types: RefCell<Vec<String>>,
        pub(super) listens: RefCell<Vec<String>>,
        /// The type as saved, to say what a switch does.
        pub(super) saved_type: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwGraphicsPage {
        const NAME: &'static str = "VireoHwGraphicsPage";
        type Type = super::HwGraphicsPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for HwGraphicsPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            super::super::clear_error_on_edit(&self.address_row, &self.error_label);
            for row in [&*self.type_row, &*self.listen_row] {
                row.connect_selected_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.follow_choices()
                ));
            }
            self.autoport_switch.connect_active_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.follow_choices()
            ));
        }
    }
    impl WidgetImpl for HwGraphicsPage {}
    impl BinImpl for HwGraphicsPage {}
}

glib::wrapper! {
    /// A display's page of the hardware view.
    pub struct HwGraphicsPage(ObjectSubclass<imp::HwGraphicsPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl HwGraphicsPage {
    /// The page of the display `key`.
    pub fn new(key: &DeviceKey) -> Self {
        let page: Self = glib::Object::new();
        page.imp().key.replace(Some(key.clone()));
        page
    }

    /// Chooses the protocol `protocol` (`vnc`, `spice`), as its row does.
    pub fn set_protocol(&self, protocol: &str) {
        let imp = self.imp();
        let index = imp.types.borrow().iter().position(|t| t == protocol);
        if let Some(i) = index {
            imp.type_row.set_selected(i as u32);
        }
    }

    /// Chooses how the display listens (`default`, `address`, `none`), as its row does.
    pub fn set_listen(&self, listen: &str) {
        let imp = self.imp();
        let index = imp.listens.borrow().iter().position(|t| t == listen);
        if let Some(i) = index {
            imp.listen_row.set_selected(i as u32);
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

    /// Shows the rows the choices call for, and what a switch of protocol does.
    fn follow_choices(&self) {
        let imp = self.imp();
        let listen = choice_value(&imp.listen_row, &imp.listens.borrow());
        let listening = listen.as_deref() != Some(LISTEN_NONE);
        imp.address_row
            .set_visible(listen.as_deref() == Some(LISTEN_ADDRESS));
        imp.autoport_row.set_visible(listening);
        imp.port_row
            .set_visible(listening && !imp.autoport_switch.is_active());
        let protocol = choice_value(&imp.type_row, &imp.types.borrow()).unwrap_or_default();
        let saved = imp.saved_type.borrow().clone();
        let note = match (saved.as_str(), protocol.as_str()) {
            (s, p) if s == p => String::new(),
            (_, "spice") => gettext(
                "SPICE adds the channel of the guest agent, for the clipboard and the display size.",
            ),
            ("spice", "vnc") => gettext(
                "VNC drops SPICE’s own settings, its agent channel and USB redirection.",
            ),
            _ => String::new(),
        };
        imp.switch_note.set_label(&note);
        imp.switch_note.set_visible(!note.is_empty());
        if *imp.protocol.borrow() != protocol {
            imp.protocol.replace(protocol);
            self.notify_protocol();
        }
    }

    fn fields(&self) -> [gtk::Widget; 2] {
        let imp = self.imp();
        [imp.address_row.get().upcast(), imp.port_spin.get().upcast()]
    }
}

impl Editor for HwGraphicsPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let Some(key) = self.imp().key.borrow().clone() else {
            return;
        };
        let Ok(g) = dom.device::<Graphics>(&key) else {
            return;
        };
        let imp = self.imp();
        let fields = self.fields();
        clear_field_errors(&fields.iter().collect::<Vec<_>>(), &imp.error_label);
        imp.saved_type.replace(g.graphics_type.clone());
        let types = choices_fill(
            &imp.type_row,
            &[("vnc", "VNC".into()), ("spice", "SPICE".into())],
            Some(&g.graphics_type),
        );
        imp.types.replace(types);
        let (listen, address) = match &g.listen {
            Listen::Default => (LISTEN_DEFAULT.to_owned(), String::new()),
            Listen::Address(a) => (LISTEN_ADDRESS.to_owned(), a.clone()),
            Listen::None => (LISTEN_NONE.to_owned(), String::new()),
            Listen::Network(n) => (format!("network {n}"), String::new()),
            Listen::Socket(s) => (
                format!("socket {}", s.as_deref().unwrap_or_default())
                    .trim()
                    .to_owned(),
                String::new(),
            ),
        };
        let listens = choices_fill(
            &imp.listen_row,
            &[
                (LISTEN_DEFAULT, gettext("Hypervisor default")),
                (LISTEN_ADDRESS, gettext("Address")),
                (LISTEN_NONE, gettext("None (only through Vireo)")),
            ],
            Some(&listen),
        );
        imp.listens.replace(listens);
        imp.address_row.set_text(&address);
        let auto = g.autoport.unwrap_or(g.port.map_or(true, |p| p < 0));
        imp.autoport_switch.set_active(auto);
        imp.port_spin
            .set_value(f64::from(g.port.filter(|p| *p > 0).unwrap_or(FIRST_PORT)));
        imp.password_row
            .set_text(g.password.as_deref().unwrap_or_default());
        self.follow_choices();
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let Some(key) = self.imp().key.borrow().clone() else {
            return Ok(());
        };
        let imp = self.imp();
        let fields = self.fields();
        clear_field_errors(&fields.iter().collect::<Vec<_>>(), &imp.error_label);
        let old = dom.device::<Graphics>(&key).map_err(|e| e.to_string())?;
        let protocol = choice_value(&imp.type_row, &imp.types.borrow()).unwrap_or_default();
        let listen = match choice_value(&imp.listen_row, &imp.listens.borrow()).as_deref() {
            Some(LISTEN_DEFAULT) => Listen::Default,
            Some(LISTEN_NONE) => Listen::None,
            Some(LISTEN_ADDRESS) => {
                let text = imp.address_row.text().trim().to_owned();
                if text.parse::<IpAddr>().is_err() {
                    return Err(field_error(
                        &*imp.address_row,
                        &imp.error_label,
                        gettext("Enter an IP address, such as 127.0.0.1 or 0.0.0.0 (every address of the host)."),
                    ));
                }
                Listen::Address(text)
            }
            // A network or a socket, as read.
            _ => old.listen.clone(),
        };
        if protocol != old.graphics_type {
            dom.set_graphics_type(&key, &protocol)
                .map_err(|e| e.to_string())?;
        }
        let mut g: Graphics = dom.device(&key).map_err(|e| e.to_string())?;
        if listen != g.listen {
            g.listen = listen;
        }
        if g.listen != Listen::None {
            let auto = imp.autoport_switch.is_active();
            let was_auto = g.autoport.unwrap_or(g.port.map_or(true, |p| p < 0));
            if auto && !was_auto {
                g.autoport = Some(true);
                g.port = g.port.map(|_| -1);
            } else if !auto {
                let port = imp.port_spin.value() as i32;
                if port < FIRST_PORT {
                    return Err(field_error(
                        &*imp.port_spin,
                        &imp.error_label,
                        gettext("A display port is 5900 or above."),
                    ));
                }
                if !was_auto && g.port == Some(port) {
                    // As saved.
                } else {
                    g.port = Some(port);
                    g.autoport = Some(false);
                }
            }
        }
        let password = imp.password_row.text().to_string();
        let password = (!password.is_empty()).then_some(password);
        if password != g.password {
            g.password = password;
        }
        dom.update_device(&key, &g).map_err(|e| e.to_string())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
