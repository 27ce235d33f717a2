//! The New Virtual Network form: name, how it reaches the outside (NAT, routed, open,
//! isolated, or a bridge of the host's), the forward device and bridge name, and IPv4
//! and IPv6 networks with their DHCP ranges, each checked as typed; sensible defaults
//! (a free 192.168.x.0/24, the upper half for DHCP) that follow the network typed
//! until the range is edited. libvirt's reason shows when it refuses.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::{forward_mode_label, network_problem_text};
use super::{problem_lines, show_lines, string_list, Form};
use crate::i18n::gettext_f;
use crate::model::host::{
    validate_network, Cidr, ForwardMode, HostObject, IpSpec, NetworkField, NetworkObject,
    NetworkProblem, NetworkSpec,
};
use crate::ui::close_on_escape;

/// The modes offered, in order.
const MODES: [ForwardMode; 5] = [
    ForwardMode::Nat,
    ForwardMode::Route,
    ForwardMode::Open,
    ForwardMode::Isolated,
    ForwardMode::Bridge,
];

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-network-dialog.ui")]
    pub struct NewNetworkDialog {
        #[template_child]
        pub spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub form: TemplateChild<adw::PreferencesPage>,
        #[template_child]
        pub failure_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub name_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub mode_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub forward_dev_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub bridge_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub name_problems: TemplateChild<gtk::Label>,
        #[template_child]
        pub mode_hint: TemplateChild<gtk::Label>,
        #[template_child]
        pub addresses_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub ipv4_expander: TemplateChild<adw::ExpanderRow>,
        #[template_child]
        pub ipv4_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv4_dhcp_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub ipv4_start_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv4_end_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv6_expander: TemplateChild<adw::ExpanderRow>,
        #[template_child]
        pub ipv6_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv6_dhcp_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub ipv6_start_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub ipv6_end_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub problems_label: TemplateChild<gtk::Label>,
        pub host: RefCell<Option<HostObject>>,
        pub touched: RefCell<HashSet<NetworkField>>,
        /// The DHCP ranges follow their network until a person edits them.
        pub ranges_edited: RefCell<HashSet<bool>>,
        pub filling: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NewNetworkDialog {
        const NAME: &'static str = "VireoNewNetworkDialog";
        type Type = super::NewNetworkDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("network-form.create", None, |dialog, _, _| dialog.create());
            close_on_escape(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NewNetworkDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let fields: [(&adw::EntryRow, NetworkField); 9] = [
                (&self.name_row, NetworkField::Name),
                (&self.forward_dev_row, NetworkField::ForwardDev),
                (&self.bridge_row, NetworkField::Bridge),
                (&self.ipv4_row, NetworkField::Ipv4),
                (&self.ipv4_start_row, NetworkField::Ipv4DhcpStart),
                (&self.ipv4_end_row, NetworkField::Ipv4DhcpEnd),
                (&self.ipv6_row, NetworkField::Ipv6),
                (&self.ipv6_start_row, NetworkField::Ipv6DhcpStart),
                (&self.ipv6_end_row, NetworkField::Ipv6DhcpEnd),
            ];
            for (row, field) in fields {
                row.connect_changed(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.field_changed(field)
                ));
            }
            let labels: Vec<String> = MODES.iter().map(forward_mode_label).collect();
            self.mode_row.set_model(Some(&string_list(&labels)));
            self.mode_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.mode_changed()
            ));
            for switch in [&*self.ipv4_dhcp_switch, &*self.ipv6_dhcp_switch] {
                switch.connect_active_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
            }
            for expander in [&*self.ipv4_expander, &*self.ipv6_expander] {
                expander.connect_enable_expansion_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
            }
        }
    }

    impl WidgetImpl for NewNetworkDialog {}
    impl WindowImpl for NewNetworkDialog {}
    impl AdwWindowImpl for NewNetworkDialog {}
}

glib::wrapper! {
    /// The New Virtual Network form.
    pub struct NewNetworkDialog(ObjectSubclass<imp::NewNetworkDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl NewNetworkDialog {
    /// The form for a new network of `host`, over `parent`.
    pub fn new(parent: Option<&gtk::Window>, host: &HostObject) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let imp = dialog.imp();
        imp.host.replace(Some(host.clone()));
        let names = host.network_names();
        let mut name = "network".to_owned();
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("network{n}");
        }
        // A /24 no network of the host uses yet.
        let used: Vec<String> = (0..host.networks().n_items())
            .filter_map(|i| host.networks().item(i).and_downcast::<NetworkObject>())
            .filter_map(|n| n.ipv4().map(|r| r.network))
            .collect();
        let third = (100..=254)
            .find(|x| !used.contains(&format!("192.168.{x}.0/24")))
            .unwrap_or(100);
        imp.filling.set(true);
        imp.name_row.set_text(&name);
        imp.ipv4_row.set_text(&format!("192.168.{third}.0/24"));
        imp.ipv6_row.set_text("fd00:1::/64");
        imp.filling.set(false);
        dialog.follow_network(false);
        dialog.follow_network(true);
        dialog.mode_changed();
        dialog
    }

    fn mode(&self) -> ForwardMode {
        MODES
            .get(self.imp().mode_row.selected() as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn mode_changed(&self) {
        let imp = self.imp();
        let mode = self.mode();
        let bridge = mode == ForwardMode::Bridge;
        imp.addresses_group.set_visible(!bridge);
        imp.forward_dev_row
            .set_visible(matches!(mode, ForwardMode::Nat | ForwardMode::Route));
        imp.bridge_row.set_title(&if bridge {
            gettext("Host Bridge")
        } else {
            gettext("Bridge Name (optional)")
        });
        imp.mode_hint.set_label(&match mode {
            ForwardMode::Nat => gettext("Machines reach the outside through the host’s address; the outside cannot reach them."),
            ForwardMode::Route => gettext("Machines’ addresses are routed to the outside; other hosts need a route back to this network."),
            ForwardMode::Open => gettext("Like routed, but libvirt adds no firewall rules."),
            ForwardMode::Isolated => gettext("Machines reach each other and the host only."),
            ForwardMode::Bridge => gettext("Machines join a bridge the host already has (such as br0), on the host’s own network."),
            ForwardMode::Other(_) => String::new(),
        });
        self.update();
    }

    fn field_changed(&self, field: NetworkField) {
        let imp = self.imp();
        if imp.filling.get() {
            return;
        }
        imp.touched.borrow_mut().insert(field);
        match field {
            NetworkField::Ipv4 => self.follow_network(false),
            NetworkField::Ipv6 => self.follow_network(true),
            NetworkField::Ipv4DhcpStart | NetworkField::Ipv4DhcpEnd => {
                imp.ranges_edited.borrow_mut().insert(false);
            }
            NetworkField::Ipv6DhcpStart | NetworkField::Ipv6DhcpEnd => {
                imp.ranges_edited.borrow_mut().insert(true);
            }
            _ => {}
        }
        self.update();
    }

    /// Fills the DHCP range from the network typed, until a person edits the range.
    fn follow_network(&self, v6: bool) {
        let imp = self.imp();
        if imp.ranges_edited.borrow().contains(&v6) {
            return;
        }
        let (net, start, end) = if v6 {
            (&imp.ipv6_row, &imp.ipv6_start_row, &imp.ipv6_end_row)
        } else {
            (&imp.ipv4_row, &imp.ipv4_start_row, &imp.ipv4_end_row)
        };
        let Ok(cidr) = Cidr::parse(net.text().trim()) else {
            return;
        };
        if cidr.usable().is_err() {
            return;
        }
        let (s, e) = cidr.default_dhcp();
        imp.filling.set(true);
        start.set_text(&s);
        end.set_text(&e);
        imp.filling.set(false);
    }

    fn ip(
        expander: &adw::ExpanderRow,
        net: &adw::EntryRow,
        dhcp: &gtk::Switch,
        start: &adw::EntryRow,
        end: &adw::EntryRow,
    ) -> Option<IpSpec> {
        expander.enables_expansion().then(|| IpSpec {
            network: net.text().trim().to_owned(),
            dhcp: dhcp
                .is_active()
                .then(|| (start.text().trim().to_owned(), end.text().trim().to_owned())),
        })
    }

    fn spec(&self) -> NetworkSpec {
        let imp = self.imp();
        let mode = self.mode();
        let addresses = mode.has_addresses();
        NetworkSpec {
            name: imp.name_row.text().trim().to_owned(),
            forward_dev: imp.forward_dev_row.text().trim().to_owned(),
            bridge: imp.bridge_row.text().trim().to_owned(),
            ipv4: addresses
                .then(|| {
                    Self::ip(
                        &imp.ipv4_expander,
                        &imp.ipv4_row,
                        &imp.ipv4_dhcp_switch,
                        &imp.ipv4_start_row,
                        &imp.ipv4_end_row,
                    )
                })
                .flatten(),
            ipv6: addresses
                .then(|| {
                    Self::ip(
                        &imp.ipv6_expander,
                        &imp.ipv6_row,
                        &imp.ipv6_dhcp_switch,
                        &imp.ipv6_start_row,
                        &imp.ipv6_end_row,
                    )
                })
                .flatten(),
            autostart: imp.autostart_switch.is_active(),
            mode,
        }
    }

    fn problems(&self) -> Vec<(NetworkField, NetworkProblem)> {
        let names = self
            .imp()
            .host
            .borrow()
            .as_ref()
            .map(HostObject::network_names)
            .unwrap_or_default();
        validate_network(&self.spec(), &names)
    }

    fn row(&self, field: NetworkField) -> adw::EntryRow {
        let imp = self.imp();
        match field {
            NetworkField::Name => imp.name_row.get(),
            NetworkField::Bridge => imp.bridge_row.get(),
            NetworkField::ForwardDev => imp.forward_dev_row.get(),
            NetworkField::Ipv4 => imp.ipv4_row.get(),
            NetworkField::Ipv4DhcpStart => imp.ipv4_start_row.get(),
            NetworkField::Ipv4DhcpEnd => imp.ipv4_end_row.get(),
            NetworkField::Ipv6 => imp.ipv6_row.get(),
            NetworkField::Ipv6DhcpStart => imp.ipv6_start_row.get(),
            NetworkField::Ipv6DhcpEnd => imp.ipv6_end_row.get(),
        }
    }

    fn update(&self) {
        let imp = self.imp();
        let lines = problem_lines(
            &self.problems(),
            &imp.touched.borrow(),
            &[
                NetworkField::Name,
                NetworkField::ForwardDev,
                NetworkField::Bridge,
                NetworkField::Ipv4,
                NetworkField::Ipv4DhcpStart,
                NetworkField::Ipv4DhcpEnd,
                NetworkField::Ipv6,
                NetworkField::Ipv6DhcpStart,
                NetworkField::Ipv6DhcpEnd,
            ],
            |f| self.row(f).upcast(),
            network_problem_text,
        );
        // Problems of the name and mode under them, of the addresses under those.
        let (top, addresses): (Vec<_>, Vec<_>) = lines.into_iter().partition(|(f, _)| {
            matches!(
                f,
                NetworkField::Name | NetworkField::ForwardDev | NetworkField::Bridge
            )
        });
        show_lines(
            &imp.name_problems,
            &top.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        );
        show_lines(
            &imp.problems_label,
            &addresses.into_iter().map(|(_, l)| l).collect::<Vec<_>>(),
        );
        self.action_set_enabled("network-form.create", !self.is_busy());
    }

    fn create(&self) {
        let imp = self.imp();
        if self.is_busy() {
            return;
        }
        let problems = self.problems();
        if !problems.is_empty() {
            imp.touched
                .borrow_mut()
                .extend(problems.iter().map(|(f, _)| *f));
            self.update();
            self.row(problems[0].0).grab_focus();
            return;
        }
        let Some(host) = imp.host.borrow().clone() else {
            return;
        };
        let spec = self.spec();
        let name = spec.name.clone();
        self.submit(
            async move { host.create_network(spec).await },
            gettext_f("Virtual network “{name}” created", &[("name", &name)]),
            gettext("The network could not be created: {reason}"),
        );
    }
}

impl Form for NewNetworkDialog {
    fn parts(&self) -> (gtk::Spinner, adw::PreferencesPage, gtk::Label) {
        let imp = self.imp();
        (imp.spinner.get(), imp.form.get(), imp.failure_label.get())
    }

    fn refresh(&self) {
        self.update();
    }
}
