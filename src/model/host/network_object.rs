//! `NetworkObject`: one virtual network as a GObject, with the domains plugged into it.

use std::cell::RefCell;

use glib::prelude::*;
use glib::subclass::prelude::*;

use super::keyed::{self, Keyed};
use super::HostError;
use crate::model::ConnectionObject;
use crate::virt::host::networks::{self, ForwardMode, IpRange, Lease, NetworkInfo};
use crate::virt::host::usage;
use crate::virt::VirtError;

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::NetworkObject)]
    pub struct NetworkObject {
        #[property(name = "name", get, type = String, member = name)]
        #[property(name = "uuid", get, type = String, member = uuid)]
        #[property(name = "active", get, type = bool, member = active)]
        #[property(name = "autostart", get, type = bool, member = autostart)]
        #[property(name = "persistent", get, type = bool, member = persistent)]
        #[property(name = "bridge", get, type = Option<String>, member = bridge)]
        #[property(name = "forward-dev", get, type = Option<String>, member = forward_dev)]
        pub(super) info: RefCell<NetworkInfo>,
        /// The names of the domains plugged into it, sorted.
        #[property(get)]
        pub(super) used_by: RefCell<Vec<String>>,
        pub(super) connection: glib::WeakRef<ConnectionObject>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for NetworkObject {
        const NAME: &'static str = "VireoNetworkObject";
        type Type = super::NetworkObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for NetworkObject {}
}

glib::wrapper! {
    /// One virtual network of a host.
    pub struct NetworkObject(ObjectSubclass<imp::NetworkObject>);
}

impl Keyed for NetworkObject {
    type Info = (NetworkInfo, Vec<String>);

    fn key_of(info: &Self::Info) -> &str {
        &info.0.name
    }

    fn key(&self) -> String {
        self.imp().info.borrow().name.clone()
    }

    fn make(info: Self::Info) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().info.replace(info.0);
        obj.imp().used_by.replace(info.1);
        obj
    }

    fn apply(&self, (info, users): Self::Info) {
        if *self.imp().info.borrow() != info {
            self.imp().info.replace(info);
            keyed::notify_all(self, &["used-by"]);
        }
        self.set_used_by(users);
    }
}

impl NetworkObject {
    pub(super) fn set_connection(&self, connection: &ConnectionObject) {
        self.imp().connection.set(Some(connection));
    }

    pub(super) fn set_used_by(&self, users: Vec<String>) {
        if *self.imp().used_by.borrow() != users {
            self.imp().used_by.replace(users);
            self.notify_used_by();
        }
    }

    pub(super) fn apply_uses(&self, uses: &[usage::DomainUse]) {
        self.set_used_by(usage::users_of_network(uses, &self.name()));
    }

    /// How it reaches the outside.
    pub fn mode(&self) -> ForwardMode {
        self.imp().info.borrow().mode.clone()
    }

    /// Its IPv4 network and DHCP range.
    pub fn ipv4(&self) -> Option<IpRange> {
        self.imp().info.borrow().ipv4.clone()
    }

    /// Its IPv6 network and DHCP range.
    pub fn ipv6(&self) -> Option<IpRange> {
        self.imp().info.borrow().ipv6.clone()
    }

    fn connection(&self) -> Result<ConnectionObject, HostError> {
        self.imp()
            .connection
            .upgrade()
            .ok_or(HostError::Virt(VirtError::NotConnected))
    }

    async fn act(
        &self,
        f: impl FnOnce(&virt::connect::Connect, &str) -> Result<(), VirtError> + Send + 'static,
    ) -> Result<(), HostError> {
        let connection = self.connection()?;
        let name = self.name();
        let r = connection.host_job(move |c| f(c, &name)).await;
        connection.host_network_changed(&self.name());
        r
    }

    /// Starts the network.
    pub async fn start(&self) -> Result<(), HostError> {
        self.act(networks::start).await
    }

    /// Stops the network (guests on it lose their connection).
    pub async fn stop(&self) -> Result<(), HostError> {
        self.act(networks::stop).await
    }

    /// Sets whether it starts with the host.
    pub async fn set_autostart(&self, autostart: bool) -> Result<(), HostError> {
        self.act(move |c, n| networks::set_autostart(c, n, autostart))
            .await
    }

    /// Stops it when it runs and removes its definition.
    pub async fn delete(&self) -> Result<(), HostError> {
        self.act(networks::delete).await
    }

    /// Its DHCP leases, each with the domain it belongs to when known.
    pub async fn leases(&self) -> Result<Vec<Lease>, HostError> {
        let connection = self.connection()?;
        let name = self.name();
        connection
            .host_job(move |c| {
                let uses = usage::read_all(c)?;
                networks::leases(c, &name, &uses)
            })
            .await
    }
}
