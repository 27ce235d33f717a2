//! The connection's side of the host model: its `HostObject`, the worker jobs of the
//! host objects, and libvirt's pool, network and domain events routed to them.

use gio::prelude::*;
use glib::subclass::prelude::*;
use virt::connect::Connect;

use super::{HostError, HostObject};
use crate::model::{ConnectionObject, ConnectionState, DomainObject};
use crate::virt::host::networks::{self, Lease};
use crate::virt::VirtError;

impl ConnectionObject {
    /// The host of this connection: facts, load, pools and networks. Read it with
    /// [`HostObject::load`]; it follows libvirt's events from then on, is emptied when
    /// the connection closes and read again when it reconnects.
    pub fn host(&self) -> HostObject {
        let imp = self.imp();
        if let Some(h) = imp.host.get() {
            return h.clone();
        }
        let host = HostObject::new(self);
        let _ = imp.host.set(host.clone());
        let weak = host.downgrade();
        self.connect_state_notify(move |c| {
            let Some(host) = weak.upgrade() else { return };
            match c.state() {
                ConnectionState::Connected if host.is_wanted() => {
                    glib::spawn_future_local(async move {
                        if let Err(e) = host.load().await {
                            tracing::debug!(error = %e, "re-reading the host after reconnect");
                        }
                    });
                }
                ConnectionState::Connected | ConnectionState::Connecting => {}
                _ => host.clear(),
            }
        });
        host
    }

    /// Runs `f` with the open connection on the worker.
    pub(crate) async fn host_job<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connect) -> Result<R, VirtError> + Send + 'static,
    ) -> Result<R, HostError> {
        match self.worker().run(move |st| f(st.session()?.conn())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) | Err(e) => Err(HostError::Virt(e)),
        }
    }

    /// A pool changed (an event, or our own change): re-read it when the host is read.
    pub(crate) fn host_pool_changed(&self, name: &str) {
        if let Some(h) = self.imp().host.get() {
            h.schedule(Some(name), None, false);
        }
    }

    /// A network changed: re-read it when the host is read.
    pub(crate) fn host_network_changed(&self, name: &str) {
        if let Some(h) = self.imp().host.get() {
            h.schedule(None, Some(name), false);
        }
    }

    /// A domain was defined, undefined or its devices changed: who uses which volume
    /// and network may have changed.
    pub(crate) fn host_domains_changed(&self) {
        if let Some(h) = self.imp().host.get() {
            h.schedule(None, None, true);
        }
    }

    /// The addresses the host's virtual networks handed out to `domain` (DHCP leases
    /// matched by the MAC addresses of its network cards).
    pub async fn domain_leases(&self, domain: &DomainObject) -> Result<Vec<Lease>, HostError> {
        let uuid = domain.uuid();
        self.host_job(move |c| networks::domain_leases(c, &uuid))
            .await
    }
}
