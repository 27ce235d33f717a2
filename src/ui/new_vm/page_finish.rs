//! Step 5: the VM's name, its network (the [`NetworkChooser`]), firmware, "customize
//! before install", and a summary of everything chosen.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::problems_text;
use super::parts::NetworkPart;
use super::{show_error, NetworkChooser};
use crate::model::new_vm::{DisplayProtocol, Field, Problem};

/// The display row's items, in the order of the template's list.
const DISPLAY_VNC: u32 = 0;
const DISPLAY_SPICE: u32 = 1;
use crate::model::ConnectionObject;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::FinishPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-finish.ui")]
    pub struct FinishPage {
        /// The host whose networks are offered.
        #[property(get = Self::connection, set = Self::set_connection, nullable, type = Option<ConnectionObject>)]
        pub connection: std::marker::PhantomData<Option<ConnectionObject>>,
        /// The VM's name, as typed.
        #[property(get = Self::name, set = Self::set_name, type = String)]
        pub name: std::marker::PhantomData<String>,
        /// UEFI instead of BIOS.
        #[property(get = Self::uefi, type = bool)]
        pub uefi: std::marker::PhantomData<bool>,
        /// Open the hardware details instead of starting the VM.
        #[property(get = Self::customize, type = bool)]
        pub customize: std::marker::PhantomData<bool>,
        /// The chosen network card.
        #[property(get = Self::network, type = NetworkPart)]
        pub network: std::marker::PhantomData<NetworkPart>,
        /// No problem on this page and the network can be used now.
        #[property(get)]
        pub valid: Cell<bool>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub name_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub network_chooser: TemplateChild<NetworkChooser>,
        #[template_child]
        pub firmware_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub display_row: TemplateChild<adw::ComboRow>,
        /// The person picked a display protocol: the host's default no longer applies.
        pub display_chosen: Cell<bool>,
        /// The display row is being set by the page, not the person.
        pub setting_display: Cell<bool>,
        #[template_child]
        pub firmware_error: TemplateChild<gtk::Label>,
        #[template_child]
        pub customize_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub summary_group: TemplateChild<adw::PreferencesGroup>,
        pub summary_rows: RefCell<Vec<adw::ActionRow>>,
        pub has_problems: Cell<bool>,
        /// The person typed a name: suggestions no longer replace it.
        pub name_typed: Cell<bool>,
        pub suggesting: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for FinishPage {
        const NAME: &'static str = "VireoNewVmFinishPage";
        type Type = super::FinishPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            NetworkChooser::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl FinishPage {
        fn connection(&self) -> Option<ConnectionObject> {
            self.network_chooser.connection()
        }

        fn set_connection(&self, connection: Option<ConnectionObject>) {
            self.network_chooser.set_connection(connection);
        }

        fn name(&self) -> String {
            self.name_row.text().trim().to_owned()
        }

        fn set_name(&self, name: String) {
            self.name_row.set_text(&name);
        }

        fn uefi(&self) -> bool {
            self.firmware_row.selected() == 1
        }

        pub(super) fn display_protocol(&self) -> DisplayProtocol {
            match self.display_row.selected() {
                DISPLAY_SPICE => DisplayProtocol::Spice,
                _ => DisplayProtocol::Vnc,
            }
        }

        fn customize(&self) -> bool {
            self.customize_switch.is_active()
        }

        fn network(&self) -> NetworkPart {
            self.network_chooser.network()
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for FinishPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.name_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    let imp = obj.imp();
                    if !imp.suggesting.get() {
                        imp.name_typed.set(true);
                    }
                    obj.notify_name();
                }
            ));
            self.firmware_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_uefi()
            ));
            self.display_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    let imp = obj.imp();
                    if !imp.setting_display.get() {
                        imp.display_chosen.set(true);
                    }
                }
            ));
            self.customize_switch.connect_active_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_customize()
            ));
            self.network_chooser.connect_network_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_network()
            ));
            self.network_chooser.connect_ready_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update_valid()
            ));
            obj.update_valid();
        }
    }

    impl WidgetImpl for FinishPage {}
    impl PreferencesPageImpl for FinishPage {}
}

glib::wrapper! {
    /// The wizard's last page.
    pub struct FinishPage(ObjectSubclass<imp::FinishPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl FinishPage {
    /// Puts `name` in the name field unless the person typed one.
    pub fn suggest_name(&self, name: &str) {
        let imp = self.imp();
        if imp.name_typed.get() {
            return;
        }
        imp.suggesting.set(true);
        imp.name_row.set_text(name);
        imp.suggesting.set(false);
    }

    /// Says whether the host has UEFI firmware for the chosen machine.
    pub fn set_uefi_available(&self, available: bool) {
        self.imp().firmware_row.set_subtitle(&if available {
            String::new()
        } else {
            gettext("No UEFI firmware on this host")
        });
    }

    /// The chosen display protocol.
    pub fn display_protocol(&self) -> DisplayProtocol {
        self.imp().display_protocol()
    }

    /// Offers SPICE where the host's QEMU has it (and makes it the default, as
    /// virt-manager does, unless the person chose); else VNC only, saying why.
    pub fn set_spice_available(&self, available: bool) {
        let imp = self.imp();
        imp.setting_display.set(true);
        if !available {
            imp.display_row.set_selected(DISPLAY_VNC);
        } else if !imp.display_chosen.get() {
            imp.display_row.set_selected(DISPLAY_SPICE);
        }
        imp.setting_display.set(false);
        imp.display_row.set_sensitive(available);
        imp.display_row.set_subtitle(&if available {
            gettext("Sound and USB redirection are not supported yet")
        } else {
            gettext("This host’s QEMU has no SPICE: the display uses VNC")
        });
    }

    /// Replaces the summary with (title, value) rows.
    pub fn set_summary(&self, items: &[(String, String)]) {
        let imp = self.imp();
        for r in imp.summary_rows.borrow_mut().drain(..) {
            imp.summary_group.remove(&r);
        }
        for (title, value) in items {
            let row = adw::ActionRow::builder()
                .title(glib::markup_escape_text(title).as_str())
                .subtitle(glib::markup_escape_text(value).as_str())
                .build();
            row.add_css_class("property");
            imp.summary_group.add(&row);
            imp.summary_rows.borrow_mut().push(row);
        }
    }

    /// Shows this page's problems next to their fields.
    pub fn set_problems(&self, problems: &[(Field, Problem)]) {
        let imp = self.imp();
        let text = |f: Field| problems_text(problems, |pf| pf == f);
        show_error(
            &imp.name_error,
            Some(imp.name_row.upcast_ref()),
            text(Field::Name),
        );
        show_error(
            &imp.firmware_error,
            Some(imp.firmware_row.upcast_ref()),
            text(Field::Firmware),
        );
        imp.has_problems.set(
            problems
                .iter()
                .any(|(f, _)| matches!(f, Field::Name | Field::Firmware)),
        );
        self.update_valid();
    }

    fn update_valid(&self) {
        let imp = self.imp();
        let valid = !imp.has_problems.get() && imp.network_chooser.ready();
        if imp.valid.replace(valid) != valid {
            self.notify_valid();
        }
    }
}
