//! The network a VM is plugged into: a virtual network of its host, a host bridge,
//! QEMU's user-mode networking or none. Offers the host model's networks, which follow
//! libvirt's events; a running network is the default, never a stopped one. A stopped
//! network that is chosen is offered to start, as virt-manager does; libvirt's reason
//! shows under the choice when it cannot start.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::followed::FollowedHost;
use super::{show_error, string_list};
use crate::i18n::gettext_f;
use crate::model::host::NetworkObject;
use crate::model::new_vm::{NetworkChoice, UriInfo};
use crate::model::ConnectionObject;
use crate::ui::new_vm::NetworkPart;

/// What a row of the network list stands for.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Network(NetworkObject),
    User,
    Bridge,
    None,
}

impl Entry {
    fn label(&self) -> String {
        match self {
            Entry::Network(n) if n.active() => {
                gettext_f("Virtual network “{name}”", &[("name", &n.name())])
            }
            Entry::Network(n) => gettext_f(
                "Virtual network “{name}” (not running)",
                &[("name", &n.name())],
            ),
            Entry::User => gettext("User-mode networking"),
            Entry::Bridge => gettext("Host bridge"),
            Entry::None => gettext("No network"),
        }
    }

    /// Same choice, whatever the network's state.
    fn same_choice(&self, other: &Entry) -> bool {
        match (self, other) {
            (Entry::Network(a), Entry::Network(b)) => a.name() == b.name(),
            _ => self == other,
        }
    }
}

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::NetworkChooser)]
    #[template(resource = "/io/github/vireo/Vireo/ui/network-chooser.ui")]
    pub struct NetworkChooser {
        /// The host whose networks are offered.
        #[property(name = "connection", get = Self::connection, set = Self::set_connection, nullable, type = Option<ConnectionObject>)]
        pub(super) connection: RefCell<Option<ConnectionObject>>,
        pub(super) host: FollowedHost,
        /// The chosen network card.
        #[property(get)]
        pub network: RefCell<NetworkPart>,
        /// True when the choice can be used now (its network runs).
        #[property(get)]
        pub ready: Cell<bool>,
        #[template_child]
        pub network_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub bridge_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub start_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub start_spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub error: TemplateChild<gtk::Label>,
        pub(super) entries: RefCell<Vec<Entry>>,
        pub loaded: Cell<bool>,
        pub starting: Cell<bool>,
        /// A choice asked for before the host's networks are read (a NIC's network).
        pub(super) wanted: RefCell<Option<NetworkChoice>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkChooser {
        const NAME: &'static str = "VireoNetworkChooser";
        type Type = super::NetworkChooser;
        type ParentType = adw::PreferencesGroup;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("network.start", None, |chooser, _, _| {
                chooser.start_chosen();
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl NetworkChooser {
        fn connection(&self) -> Option<ConnectionObject> {
            self.connection.borrow().clone()
        }

        fn set_connection(&self, connection: Option<ConnectionObject>) {
            let obj = self.obj();
            let host = connection.as_ref().map(ConnectionObject::host);
            self.connection.replace(connection);
            if self.host.set(host) {
                // A new host: its own default, not the last host's choice.
                self.entries.borrow_mut().clear();
                obj.reload();
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for NetworkChooser {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.network_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    // A new choice: the last one's failure no longer applies.
                    obj.set_error(None);
                    obj.update();
                }
            ));
            self.bridge_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            obj.update();
        }

        fn dispose(&self) {
            self.host.unfollow();
        }
    }

    impl WidgetImpl for NetworkChooser {}
    impl PreferencesGroupImpl for NetworkChooser {}
}

glib::wrapper! {
    /// Chooses the network a VM is plugged into.
    pub struct NetworkChooser(ObjectSubclass<imp::NetworkChooser>)
        @extends adw::PreferencesGroup, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for NetworkChooser {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl NetworkChooser {
    /// Offers the host's networks again (keeping the choice when it is still there),
    /// and follows them: the list, whether it is read, each network's state.
    pub fn reload(&self) {
        let imp = self.imp();
        imp.host.unfollow();
        let Some(host) = imp.host.host() else {
            self.set_networks(Vec::new(), false, false);
            return;
        };
        let session = self
            .connection()
            .is_some_and(|c| UriInfo::parse(&c.uri()).is_session());
        let list = host.networks();
        let h = list.connect_items_changed(glib::clone!(
            #[weak(rename_to = chooser)]
            self,
            move |_, _, _, _| chooser.reload()
        ));
        imp.host.follow(&list, h);
        let h = host.connect_loaded_notify(glib::clone!(
            #[weak(rename_to = chooser)]
            self,
            move |_| chooser.reload()
        ));
        imp.host.follow(&host, h);
        let mut networks: Vec<NetworkObject> = list
            .iter::<NetworkObject>()
            .filter_map(Result::ok)
            .collect();
        for n in &networks {
            let h = n.connect_active_notify(glib::clone!(
                #[weak(rename_to = chooser)]
                self,
                move |_| chooser.relabel()
            ));
            imp.host.follow(n, h);
        }
        // Running networks first.
        networks.sort_by_key(|n| !n.active());
        self.set_networks(networks, session, host.loaded());
    }

    /// Chooses `choice` (what a NIC is plugged into now): at once when the host's
    /// networks are read, else as soon as they are.
    pub fn choose(&self, choice: &NetworkChoice) {
        let imp = self.imp();
        if let NetworkChoice::Bridge { name } = choice {
            imp.bridge_row.set_text(name);
        }
        imp.wanted.replace(Some(choice.clone()));
        self.reload();
    }

    /// False while a choice asked for with [`NetworkChooser::choose`] waits for the
    /// host's networks (what it shows then is not that choice).
    pub fn settled(&self) -> bool {
        self.imp().wanted.borrow().is_none()
    }

    /// Lists `networks` with user-mode networking, a bridge and none. A session daemon
    /// cannot make taps, so user-mode comes first there.
    fn set_networks(&self, networks: Vec<NetworkObject>, session: bool, loaded: bool) {
        let imp = self.imp();
        let previous = imp
            .entries
            .borrow()
            .get(imp.network_row.selected() as usize)
            .cloned();
        let mut entries: Vec<Entry> = networks.into_iter().map(Entry::Network).collect();
        if session {
            entries.insert(0, Entry::User);
        } else {
            entries.push(Entry::User);
        }
        entries.extend([Entry::Bridge, Entry::None]);
        let wanted = imp.wanted.borrow().as_ref().and_then(|w| {
            entries.iter().position(|e| match (e, w) {
                (Entry::Network(n), NetworkChoice::Nat { network }) => n.name() == *network,
                (Entry::Bridge, NetworkChoice::Bridge { .. }) => true,
                (Entry::User, NetworkChoice::User) => true,
                (Entry::None, NetworkChoice::None) => true,
                _ => false,
            })
        });
        if wanted.is_some() {
            imp.wanted.take();
        }
        let kept = wanted
            .or_else(|| previous.and_then(|p| entries.iter().position(|e| e.same_choice(&p))));
        // A running virtual network first; when none runs, user-mode networking, which
        // needs nothing started (a stopped network would make the first start fail).
        let default = kept
            .or_else(|| {
                entries
                    .iter()
                    .position(|e| matches!(e, Entry::Network(n) if n.active()))
            })
            .or_else(|| entries.iter().position(|e| *e == Entry::User))
            .unwrap_or(0);
        let labels: Vec<String> = entries.iter().map(Entry::label).collect();
        imp.entries.replace(entries);
        imp.loaded.set(loaded);
        imp.network_row.set_model(Some(&string_list(&labels)));
        imp.network_row.set_selected(default as u32);
        self.update();
    }

    fn chosen(&self) -> Option<Entry> {
        let imp = self.imp();
        imp.entries
            .borrow()
            .get(imp.network_row.selected() as usize)
            .cloned()
    }

    /// Recomputes the choice, its readiness and what the rows show.
    fn update(&self) {
        let imp = self.imp();
        let chosen = self.chosen();
        imp.bridge_row.set_visible(chosen == Some(Entry::Bridge));
        let stopped = match &chosen {
            Some(Entry::Network(n)) if !n.active() => Some(n.name()),
            _ => None,
        };
        imp.start_row.set_visible(stopped.is_some());
        if let Some(name) = &stopped {
            imp.start_row.set_title(&gettext_f(
                "The network “{name}” is not running",
                &[("name", name)],
            ));
        }
        imp.start_spinner.set_spinning(imp.starting.get());
        imp.start_spinner.set_visible(imp.starting.get());
        self.action_set_enabled("network.start", stopped.is_some() && !imp.starting.get());
        let network = match chosen {
            Some(Entry::Network(n)) => NetworkChoice::Nat { network: n.name() },
            Some(Entry::Bridge) => NetworkChoice::Bridge {
                name: imp.bridge_row.text().trim().to_owned(),
            },
            Some(Entry::User) => NetworkChoice::User,
            Some(Entry::None) | None => NetworkChoice::None,
        };
        if imp.network.borrow().0 != network {
            imp.network.replace(NetworkPart(network));
            self.notify_network();
        }
        let ready = imp.loaded.get() && stopped.is_none() && !imp.starting.get();
        if imp.ready.replace(ready) != ready {
            self.notify_ready();
        }
    }

    /// Starts the chosen, stopped network; says libvirt's reason when it cannot.
    fn start_chosen(&self) {
        let imp = self.imp();
        let Some(Entry::Network(net)) = self.chosen() else {
            return;
        };
        if net.active() || imp.starting.get() {
            return;
        }
        imp.starting.set(true);
        self.set_error(None);
        self.update();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = chooser)]
            self,
            async move {
                let started = net.start().await;
                chooser.imp().starting.set(false);
                match started {
                    // The network's object follows (its `active` changes, which relabels).
                    Ok(()) => tracing::info!(network = %net.name(), "started a virtual network"),
                    Err(e) => chooser.set_error(Some(gettext_f(
                        "The network could not start: {reason}",
                        &[("reason", &e.to_string())],
                    ))),
                }
                chooser.update();
            }
        ));
    }

    /// Shows (or clears) a problem under the choice.
    fn set_error(&self, text: Option<String>) {
        let imp = self.imp();
        show_error(&imp.error, Some(imp.network_row.upcast_ref()), text);
    }

    /// Rewrites the labels after a state change, keeping the selection.
    fn relabel(&self) {
        let imp = self.imp();
        let selected = imp.network_row.selected();
        let labels: Vec<String> = imp.entries.borrow().iter().map(Entry::label).collect();
        imp.network_row.set_model(Some(&string_list(&labels)));
        imp.network_row.set_selected(selected);
        self.update();
    }
}
