//! One virtual network in the host page's network list: name, mode, state, bridge.

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::messages::forward_mode_label;
use crate::model::host::NetworkObject;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/network-row.ui")]
    pub struct NetworkRow {
        #[template_child]
        pub icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub name_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub kind_label: TemplateChild<gtk::Label>,
        pub network: RefCell<Option<NetworkObject>>,
        pub handler: RefCell<Option<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkRow {
        const NAME: &'static str = "VireoNetworkRow";
        type Type = super::NetworkRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NetworkRow {
        fn dispose(&self) {
            if let (Some(n), Some(h)) = (self.network.take(), self.handler.take()) {
                n.disconnect(h);
            }
        }
    }

    impl WidgetImpl for NetworkRow {}
    impl ListBoxRowImpl for NetworkRow {}
}

glib::wrapper! {
    /// A network in the network list.
    pub struct NetworkRow(ObjectSubclass<imp::NetworkRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Accessible, gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

/// "Running" or "Stopped".
pub fn network_state_label(active: bool) -> String {
    if active {
        gettext("Running")
    } else {
        gettext("Stopped")
    }
}

impl NetworkRow {
    /// A row showing `network` (and following it).
    pub fn new(network: &NetworkObject) -> Self {
        let row: Self = glib::Object::new();
        row.imp().network.replace(Some(network.clone()));
        let h = network.connect_notify_local(
            None,
            glib::clone!(
                #[weak]
                row,
                move |n, _| row.update(n)
            ),
        );
        row.imp().handler.replace(Some(h));
        row.update(network);
        row
    }

    /// The network shown.
    pub fn network(&self) -> Option<NetworkObject> {
        self.imp().network.borrow().clone()
    }

    fn update(&self, n: &NetworkObject) {
        let imp = self.imp();
        imp.name_label.set_label(&n.name());
        let mut parts = vec![
            forward_mode_label(&n.mode()),
            network_state_label(n.active()),
        ];
        if let Some(b) = n.bridge() {
            parts.push(b);
        }
        let kind = parts.join(" · ");
        imp.kind_label.set_label(&kind);
        imp.icon.set_sensitive(n.active());
        self.update_property(&[gtk::accessible::Property::Label(&format!(
            "{}, {kind}",
            n.name()
        ))]);
    }
}
