//! The host page's networks: the virtual networks in a sidebar and the chosen one
//! beside it, folding into one column on narrow windows.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::network_row::NetworkRow;
use super::network_view::NetworkView;
use super::{keep_a_row_selected, select_row_where, wire_leaflet, NewNetworkDialog};
use crate::model::host::{HostObject, NetworkObject};

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/host-networks.ui")]
    pub struct NetworksView {
        #[template_child]
        pub leaflet: TemplateChild<adw::Leaflet>,
        #[template_child]
        pub network_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub content: TemplateChild<gtk::Stack>,
        #[template_child]
        pub network_view: TemplateChild<NetworkView>,
        pub host: RefCell<Option<HostObject>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworksView {
        const NAME: &'static str = "VireoNetworksView";
        type Type = super::NetworksView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            NetworkView::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.install_action("networks.new-network", None, |view, _, _| {
                if let Some(host) = view.imp().host.borrow().as_ref() {
                    NewNetworkDialog::new(view.root().and_downcast_ref::<gtk::Window>(), host)
                        .present();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for NetworksView {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.network_list.connect_row_selected(glib::clone!(
                #[weak]
                obj,
                move |_, row| {
                    obj.show_network(row.and_then(|r| r.downcast_ref::<NetworkRow>()?.network()))
                }
            ));
            wire_leaflet(
                &self.leaflet,
                &self.network_list,
                &*self.content,
                &self.network_view.back_button(),
            );
        }

        fn dispose(&self) {
            self.dispose_template();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for NetworksView {}
}

glib::wrapper! {
    /// A host's virtual networks.
    pub struct NetworksView(ObjectSubclass<imp::NetworksView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for NetworksView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl NetworksView {
    /// Shows `host`'s networks.
    pub fn set_host(&self, host: &HostObject) {
        let imp = self.imp();
        imp.host.replace(Some(host.clone()));
        let networks = host.networks();
        imp.network_list.bind_model(Some(&networks), |item| {
            let n = item
                .downcast_ref::<NetworkObject>()
                .expect("a list of networks");
            NetworkRow::new(n).upcast()
        });
        networks.connect_items_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, _, _, _| view.keep_a_network_shown()
        ));
        self.keep_a_network_shown();
    }

    /// The network view.
    pub fn network_view(&self) -> NetworkView {
        self.imp().network_view.get()
    }

    /// Shows the network named `name`, if the host has it.
    pub fn select_network(&self, name: &str) {
        let imp = self.imp();
        select_row_where(&imp.network_list, &imp.leaflet, &*imp.content, |row| {
            row.downcast_ref::<NetworkRow>()
                .and_then(NetworkRow::network)
                .is_some_and(|n| n.name() == name)
        });
    }

    fn keep_a_network_shown(&self) {
        if !keep_a_row_selected(&self.imp().network_list) {
            self.show_network(None);
        }
    }

    fn show_network(&self, network: Option<NetworkObject>) {
        let imp = self.imp();
        imp.network_view.set_network(network.as_ref());
        imp.content.set_visible_child_name(if network.is_some() {
            "network"
        } else {
            "empty"
        });
    }
}
