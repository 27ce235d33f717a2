//! One virtual network in full: state, autostart, mode, bridge, addresses, the
//! machines plugged into it, and its DHCP leases with the machine each belongs to;
//! start, stop and delete (saying which machines lose their network).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::messages::forward_mode_label;
use super::network_row::network_state_label;
use super::run_or_toast;
use crate::i18n::gettext_f;
use crate::model::host::{IpRange, Lease, NetworkObject};

/// How often the leases are read again while the view is on screen: guests take and
/// renew addresses without any libvirt event.
const LEASES_EVERY_S: u32 = 15;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/network-view.ui")]
    pub struct NetworkView {
        #[template_child]
        pub back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub start_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub stop_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub state_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub mode_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub bridge_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub ipv4_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub ipv6_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub users_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub lease_list: TemplateChild<gtk::ListBox>,
        pub network: RefCell<Option<NetworkObject>>,
        pub handler: RefCell<Option<glib::SignalHandlerId>>,
        pub updating: Cell<bool>,
        pub timer: RefCell<Option<glib::SourceId>>,
        /// The leases shown, for tests and screen readers.
        pub leases: RefCell<Vec<Lease>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkView {
        const NAME: &'static str = "VireoNetworkView";
        type Type = super::NetworkView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.install_action("network.start", None, |view, _, _| {
                if let Some(n) = view.network() {
                    run_or_toast(view, &gettext("The network could not start"), async move {
                        n.start().await
                    });
                }
            });
            klass.install_action("network.stop", None, |view, _, _| view.stop());
            klass.install_action("network.delete", None, |view, _, _| view.delete());
            klass.install_action("network.refresh-leases", None, |view, _, _| {
                view.refresh_leases()
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NetworkView {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let placeholder = gtk::Label::new(Some(&gettext("No addresses handed out")));
            placeholder.set_margin_top(18);
            placeholder.set_margin_bottom(18);
            placeholder.add_css_class("dim-label");
            self.lease_list.set_placeholder(Some(&placeholder));
            self.autostart_switch.connect_active_notify(glib::clone!(
                #[weak]
                obj,
                move |switch| {
                    if obj.imp().updating.get() {
                        return;
                    }
                    if let Some(n) = obj.network() {
                        let on = switch.is_active();
                        run_or_toast(
                            &obj,
                            &gettext("Autostart could not be changed"),
                            async move { n.set_autostart(on).await },
                        );
                    }
                }
            ));
        }

        fn dispose(&self) {
            self.obj().unbind();
            self.dispose_template();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for NetworkView {
        fn map(&self) {
            self.parent_map();
            let obj = self.obj();
            obj.refresh_leases();
            let weak = obj.downgrade();
            let id = glib::timeout_add_seconds_local(LEASES_EVERY_S, move || {
                let Some(view) = weak.upgrade() else {
                    return glib::ControlFlow::Break;
                };
                view.refresh_leases();
                glib::ControlFlow::Continue
            });
            self.timer.replace(Some(id));
        }

        fn unmap(&self) {
            if let Some(id) = self.timer.take() {
                id.remove();
            }
            self.parent_unmap();
        }
    }
}

glib::wrapper! {
    /// A virtual network and its leases.
    pub struct NetworkView(ObjectSubclass<imp::NetworkView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for NetworkView {
    fn default() -> Self {
        glib::Object::new()
    }
}

fn range_text(r: &Option<IpRange>) -> Option<String> {
    let r = r.as_ref()?;
    Some(match &r.dhcp {
        Some((start, end)) => gettext_f(
            "{network}, host {address}, DHCP {start} to {end}",
            &[
                ("network", &r.network),
                ("address", &r.address),
                ("start", start),
                ("end", end),
            ],
        ),
        None => gettext_f(
            "{network}, host {address}, no DHCP",
            &[("network", &r.network), ("address", &r.address)],
        ),
    })
}

impl NetworkView {
    /// The back button (shown when the list is folded away).
    pub fn back_button(&self) -> gtk::Button {
        self.imp().back_button.get()
    }

    /// The network shown.
    pub fn network(&self) -> Option<NetworkObject> {
        self.imp().network.borrow().clone()
    }

    /// The leases shown now.
    pub fn leases(&self) -> Vec<Lease> {
        self.imp().leases.borrow().clone()
    }

    fn unbind(&self) {
        let imp = self.imp();
        if let (Some(n), Some(h)) = (imp.network.take(), imp.handler.take()) {
            n.disconnect(h);
        }
    }

    /// Shows `network`.
    pub fn set_network(&self, network: Option<&NetworkObject>) {
        if self.network().as_ref() == network {
            return;
        }
        self.unbind();
        self.show_leases(Vec::new());
        let Some(network) = network else { return };
        let imp = self.imp();
        imp.network.replace(Some(network.clone()));
        let h = network.connect_notify_local(
            None,
            glib::clone!(
                #[weak(rename_to = view)]
                self,
                move |n, pspec| {
                    view.update(n);
                    if pspec.name() == "active" {
                        view.refresh_leases();
                    }
                }
            ),
        );
        imp.handler.replace(Some(h));
        self.update(network);
        if self.is_mapped() {
            self.refresh_leases();
        }
    }

    fn update(&self, n: &NetworkObject) {
        let imp = self.imp();
        imp.title_label.set_label(&n.name());
        imp.start_button.set_visible(!n.active());
        imp.stop_button.set_visible(n.active());
        imp.state_row.set_subtitle(&network_state_label(n.active()));
        imp.updating.set(true);
        imp.autostart_switch.set_active(n.autostart());
        imp.updating.set(false);
        imp.autostart_switch.set_sensitive(n.persistent());
        let mode = match n.forward_dev() {
            Some(dev) => gettext_f(
                "{mode} through {device}",
                &[("mode", &forward_mode_label(&n.mode())), ("device", &dev)],
            ),
            None => forward_mode_label(&n.mode()),
        };
        imp.mode_row.set_subtitle(&mode);
        imp.bridge_row.set_visible(n.bridge().is_some());
        imp.bridge_row.set_subtitle(&n.bridge().unwrap_or_default());
        let v4 = range_text(&n.ipv4());
        imp.ipv4_row.set_visible(v4.is_some());
        imp.ipv4_row.set_subtitle(&v4.unwrap_or_default());
        let v6 = range_text(&n.ipv6());
        imp.ipv6_row.set_visible(v6.is_some());
        imp.ipv6_row.set_subtitle(&v6.unwrap_or_default());
        let users = n.used_by();
        imp.users_row.set_subtitle(&if users.is_empty() {
            gettext("None")
        } else {
            users.join(", ")
        });
    }

    /// Reads the leases again (while the network runs).
    pub fn refresh_leases(&self) {
        let Some(n) = self.network() else { return };
        if !n.active() {
            self.show_leases(Vec::new());
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let read = n.leases().await;
                if view.network().as_ref() != Some(&n) {
                    return;
                }
                match read {
                    Ok(leases) => view.show_leases(leases),
                    Err(e) => {
                        tracing::debug!(error = %e, "no leases");
                        view.show_leases(Vec::new());
                    }
                }
            }
        ));
    }

    fn show_leases(&self, leases: Vec<Lease>) {
        let imp = self.imp();
        if *imp.leases.borrow() == leases {
            return;
        }
        while let Some(row) = imp.lease_list.row_at_index(0) {
            imp.lease_list.remove(&row);
        }
        for l in &leases {
            let row = adw::ActionRow::new();
            row.set_title(&l.address);
            row.set_title_selectable(true);
            let who = match &l.domain {
                Some((_, name)) => name.clone(),
                None => gettext("Not a virtual machine of this host"),
            };
            let mut parts = vec![who, l.mac.clone()];
            if let Some(h) = &l.hostname {
                parts.push(h.clone());
            }
            if let Ok(t) = glib::DateTime::from_unix_local(l.expiry) {
                if let Ok(s) = t.format("%X") {
                    parts.push(gettext_f("until {time}", &[("time", &s)]));
                }
            }
            row.set_subtitle(&glib::markup_escape_text(&parts.join(" · ")));
            row.add_prefix(&gtk::Image::from_icon_name(if l.domain.is_some() {
                "computer-symbolic"
            } else {
                "network-wired-symbolic"
            }));
            imp.lease_list.append(&row);
        }
        imp.leases.replace(leases);
    }

    fn stop(&self) {
        let Some(n) = self.network() else { return };
        let users = n.used_by();
        let body = if users.is_empty() {
            gettext("No virtual machine is plugged into it.")
        } else {
            gettext_f(
                "Running machines plugged into it lose their network until it starts again: {names}.",
                &[("names", &users.join(", "))],
            )
        };
        let view = self.downgrade();
        super::confirm(
            self,
            &gettext_f("Stop Network “{name}”?", &[("name", &n.name())]),
            &body,
            &gettext("_Stop"),
            move || {
                let Some(view) = view.upgrade() else { return };
                run_or_toast(&view, &gettext("The network could not stop"), async move {
                    n.stop().await
                });
            },
        );
    }

    fn delete(&self) {
        let Some(n) = self.network() else { return };
        let users = n.used_by();
        let mut body = gettext("The network is stopped and its definition removed.");
        body.push_str("\n\n");
        body.push_str(&if users.is_empty() {
            gettext("No virtual machine uses it.")
        } else {
            gettext_f(
                "These virtual machines use it and will not start until they get another network: {names}.",
                &[("names", &users.join(", "))],
            )
        });
        let view = self.downgrade();
        super::confirm(
            self,
            &gettext_f("Delete Network “{name}”?", &[("name", &n.name())]),
            &body,
            &gettext("_Delete"),
            move || {
                let Some(view) = view.upgrade() else { return };
                run_or_toast(
                    &view,
                    &gettext("The network could not be deleted"),
                    async move { n.delete().await },
                );
            },
        );
    }
}
