//! `ConnectionObject`: one libvirt connection as a GObject, with its domain list.
//!
//! Public face only; the machinery that keeps the list in step with libvirt (open,
//! events, refreshes, stats ticks, reconnect) is in `connection_sync.rs`. Every libvirt
//! call runs on the connection's own worker thread; results come back to the main
//! loop as futures awaited with `glib::spawn_future_local`.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::sync::OnceLock;

use gettextrs::gettext;
use glib::prelude::*;
use glib::subclass::prelude::*;
use glib::subclass::Signal;
use virt::connect::Connect;

use super::connection_sync::AuthAsk;
use super::{CredentialsRequest, DomainAction, DomainList, DomainObject, StorageInfo};
use crate::virt::events::VirtEvent;
use crate::virt::handles::{clone_connect, release_connect};
use crate::virt::stats::StatsFields;
use crate::virt::uri::UriInfo;
use crate::virt::worker::Worker;
use crate::virt::{actions, storage, VirtError};

/// Where a connection stands.
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoConnectionState")]
pub enum ConnectionState {
    /// Not open (initially, or closed by the user).
    #[default]
    Disconnected,
    /// Opening (may be waiting for credentials).
    Connecting,
    /// Open, domain list filled.
    Connected,
    /// The connection dropped; reconnect attempts with backoff are running.
    Lost,
    /// Opening failed; `error` holds libvirt's message.
    Failed,
}

/// The default stats tick.
pub const DEFAULT_STATS_INTERVAL_MS: u32 = 1000;

/// What collecting stats has cost a connection since it was created (for the
/// diagnostics probe and benches).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsCost {
    /// Ticks collected and applied.
    pub ticks: u64,
    /// Time spent in libvirt's stats call on the worker thread.
    pub worker: std::time::Duration,
    /// Time spent applying the figures to the domains on the main thread.
    pub main_thread: std::time::Duration,
}

mod imp {
    use super::*;

    #[derive(glib::Properties)]
    #[properties(wrapper_type = super::ConnectionObject)]
    pub struct ConnectionObject {
        #[property(get, construct_only)]
        pub(super) uri: RefCell<String>,
        #[property(get)]
        pub(super) display_name: RefCell<String>,
        #[property(get, builder(ConnectionState::default()))]
        pub(super) state: Cell<ConnectionState>,
        #[property(get)]
        pub(super) error: RefCell<Option<String>>,
        #[property(get)]
        pub(super) is_demo: Cell<bool>,
        #[property(get)]
        pub(super) hostname: RefCell<String>,
        /// True while libvirt's login waits for the person's answer: the connection
        /// is then not working, and nothing should animate as if it were.
        #[property(get)]
        pub(super) awaiting_login: Cell<bool>,

        pub(crate) domains: DomainList,
        pub(crate) worker: OnceCell<Worker>,
        /// A main-thread reference on the open connection (streams, consoles).
        pub(crate) raw: RefCell<Option<Connect>>,
        /// Bumped at every open and close: events and replies of an older session
        /// carry an older number and are ignored.
        pub(crate) generation: Cell<u64>,
        pub(crate) events_tx: OnceCell<async_channel::Sender<(u64, VirtEvent)>>,
        pub(crate) auth_tx: OnceCell<async_channel::Sender<AuthAsk>>,
        pub(crate) pending_auth: glib::WeakRef<CredentialsRequest>,
        pub(crate) stats_interval_ms: Cell<u32>,
        pub(crate) stats_fields: Cell<StatsFields>,
        pub(crate) stats_source: RefCell<Option<glib::SourceId>>,
        pub(crate) stats_busy: Cell<bool>,
        /// Worker time of the last tick and the interval the timer runs at.
        pub(crate) stats_costs_ms: RefCell<std::collections::VecDeque<u32>>,
        pub(crate) stats_timer_ms: Cell<u32>,
        pub(crate) stats_cost: Cell<StatsCost>,
        pub(crate) stats_active: RefCell<HashSet<String>>,
        /// `Some`: collect stats only for these UUIDs (rows on screen, recorded ones).
        pub(crate) stats_only: RefCell<Option<HashSet<String>>>,
        pub(crate) host_cpus: Cell<u32>,
        pub(crate) safety_source: RefCell<Option<glib::SourceId>>,
        pub(crate) refresh_pending: RefCell<HashSet<String>>,
        pub(crate) refresh_scheduled: Cell<bool>,
        pub(crate) reconnect_attempt: Cell<u32>,
        pub(crate) reconnect_source: RefCell<Option<glib::SourceId>>,
        /// An open is running on the worker (first open or a reconnect attempt).
        pub(crate) opening: Cell<bool>,
        /// The daemon's socket came back while an attempt was running: try again at
        /// once if that attempt fails.
        pub(crate) retry_at_once: Cell<bool>,
        /// While lost: the watch on the local daemon's socket.
        pub(crate) socket_watch: RefCell<Option<crate::model::reconnect::SocketWatch>>,
        /// The host's facts, pools and networks, made on first use.
        pub(crate) host: OnceCell<super::super::host::HostObject>,
    }

    impl Default for ConnectionObject {
        fn default() -> Self {
            ConnectionObject {
                uri: RefCell::default(),
                display_name: RefCell::default(),
                state: Cell::default(),
                error: RefCell::default(),
                is_demo: Cell::default(),
                hostname: RefCell::default(),
                awaiting_login: Cell::new(false),
                domains: DomainList::new(),
                worker: OnceCell::new(),
                raw: RefCell::default(),
                generation: Cell::new(0),
                events_tx: OnceCell::new(),
                auth_tx: OnceCell::new(),
                pending_auth: glib::WeakRef::new(),
                stats_interval_ms: Cell::new(DEFAULT_STATS_INTERVAL_MS),
                stats_fields: Cell::new(StatsFields::default()),
                stats_source: RefCell::default(),
                stats_busy: Cell::new(false),
                stats_costs_ms: RefCell::default(),
                stats_timer_ms: Cell::new(0),
                stats_cost: Cell::default(),
                stats_active: RefCell::default(),
                stats_only: RefCell::default(),
                host_cpus: Cell::new(1),
                safety_source: RefCell::default(),
                refresh_pending: RefCell::default(),
                refresh_scheduled: Cell::new(false),
                reconnect_attempt: Cell::new(0),
                reconnect_source: RefCell::default(),
                opening: Cell::new(false),
                retry_at_once: Cell::new(false),
                socket_watch: RefCell::default(),
                host: OnceCell::new(),
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionObject {
        const NAME: &'static str = "VireoConnectionObject";
        type Type = super::ConnectionObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConnectionObject {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let uri = obj.uri();
            self.display_name.replace(display_name_for(&uri));
            self.is_demo.set(UriInfo::parse(&uri).is_test());
            let _ = self.worker.set(Worker::spawn(&uri));
            obj.start_receivers();
        }

        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    // libvirt needs a login; answer through the request.
                    Signal::builder("credentials-requested")
                        .param_types([CredentialsRequest::static_type()])
                        .build(),
                    // A virtual network was defined, started, stopped... (its name).
                    Signal::builder("network-changed")
                        .param_types([String::static_type()])
                        .build(),
                    // A storage pool changed (its name).
                    Signal::builder("storage-pool-changed")
                        .param_types([String::static_type()])
                        .build(),
                    // A stats tick was applied to every active domain (after their
                    // own `stats-updated`).
                    Signal::builder("stats-tick").build(),
                ]
            })
        }

        fn dispose(&self) {
            self.obj().close();
        }
    }
}

glib::wrapper! {
    /// One libvirt connection and its domains.
    pub struct ConnectionObject(ObjectSubclass<imp::ConnectionObject>);
}

/// The name people see for a URI ("QEMU/KVM", "QEMU/KVM on host"...).
pub fn display_name_for(uri: &str) -> String {
    let u = UriInfo::parse(uri);
    if u.is_test() {
        // The header adds a "Demo" badge, so the name itself stays plain.
        return gettext("Test Host");
    }
    let driver = match u.driver.as_str() {
        "qemu" if u.is_session() => gettext("QEMU/KVM User Session"),
        "qemu" if u.is_embed() => gettext("QEMU/KVM (embedded)"),
        "qemu" => gettext("QEMU/KVM"),
        "lxc" => gettext("LXC"),
        "xen" => gettext("Xen"),
        "ch" => gettext("Cloud Hypervisor"),
        "vbox" => gettext("VirtualBox"),
        "bhyve" => gettext("bhyve"),
        _ => return uri.to_owned(),
    };
    if u.is_remote() {
        // Translators: "QEMU/KVM on myhost.example.com".
        gettext("{driver} on {host}")
            .replace("{driver}", &driver)
            .replace("{host}", &u.host)
    } else {
        driver
    }
}

/// The text shown for an error of the libvirt layer: libvirt's own message when
/// libvirt failed, a translated sentence otherwise.
pub fn error_text(e: &VirtError) -> String {
    match e {
        VirtError::Libvirt { message, .. } => message.clone(),
        VirtError::NotConnected => gettext("Not connected to the host"),
        VirtError::WorkerGone => gettext("The connection's background worker stopped"),
        VirtError::Xml(m) => gettext("Could not read the XML from libvirt: {}").replace("{}", m),
        VirtError::InvalidArgument(m) => gettext("Invalid value: {}").replace("{}", m),
    }
}

impl ConnectionObject {
    /// A (closed) connection object for `uri`. Call [`Self::open`] to connect.
    pub fn new(uri: &str) -> Self {
        glib::Object::builder().property("uri", uri).build()
    }

    /// The domains of this connection (empty until connected).
    pub fn domains(&self) -> DomainList {
        self.imp().domains.clone()
    }

    /// Starts opening on the worker thread; returns at once. The state goes
    /// Connecting -> Connected (after the domain list is filled) or Failed.
    pub fn open(&self) {
        match self.state() {
            ConnectionState::Connecting | ConnectionState::Connected => {}
            // An attempt is under way already.
            ConnectionState::Lost if self.imp().opening.get() => {}
            ConnectionState::Lost => {
                // Try now instead of waiting for the backoff.
                self.cancel_reconnect();
                self.start_open();
            }
            ConnectionState::Disconnected | ConnectionState::Failed => {
                self.set_state(ConnectionState::Connecting, None);
                self.start_open();
            }
        }
    }

    /// Closes the connection and empties the domain list.
    pub fn close(&self) {
        let imp = self.imp();
        imp.generation.set(imp.generation.get() + 1);
        self.stop_timers();
        self.cancel_reconnect();
        imp.opening.set(false);
        imp.retry_at_once.set(false);
        imp.socket_watch.take();
        if let Some(req) = imp.pending_auth.upgrade() {
            req.cancel();
        }
        if let Some(w) = imp.worker.get() {
            w.post(|st| st.close());
        }
        if let Some(c) = imp.raw.take() {
            release_connect(c);
        }
        imp.refresh_pending.borrow_mut().clear();
        imp.stats_active.borrow_mut().clear();
        imp.domains.clear();
        if self.state() != ConnectionState::Disconnected {
            self.set_state(ConnectionState::Disconnected, None);
        }
    }

    /// Runs a lifecycle action; `Err` carries libvirt's own message (see
    /// [`error_text`] for the words to show).
    pub async fn run_action(
        &self,
        domain: &DomainObject,
        action: DomainAction,
    ) -> Result<(), VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| actions::run(st.session()?.conn(), &uuid, &action))
            .await;
        // Some changes (autostart, managed save removal) raise no event: re-read.
        self.schedule_refresh(domain.uuid());
        r?
    }

    /// The domain's XML; `inactive` gives the persistent definition.
    pub async fn domain_xml(
        &self,
        domain: &DomainObject,
        inactive: bool,
    ) -> Result<String, VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| actions::domain_xml(st.session()?.conn(), &uuid, inactive))
            .await;
        r?
    }

    /// The disks of a domain, with their storage volumes, for the delete dialog.
    pub async fn deletable_storage(
        &self,
        domain: &DomainObject,
    ) -> Result<Vec<StorageInfo>, VirtError> {
        let uuid = domain.uuid();
        let r = self
            .worker()
            .run(move |st| storage::domain_storage(st.session()?.conn(), &uuid))
            .await;
        r?
    }

    /// Runs `f` with the libvirt connection on the connection's worker thread.
    ///
    /// A hatch for tests and benchmarks that set up what they check (define a domain,
    /// look up a volume) on the very connection the model holds; the app's own code
    /// goes through the typed methods of `model/`, and `ui/` never calls it.
    #[doc(hidden)]
    pub fn with_connect<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connect) -> R + Send + 'static,
    ) -> impl Future<Output = Result<R, String>> + 'static {
        let fut = self
            .worker()
            .run(move |st| st.session().map(|s| f(s.conn())));
        async move { flatten(fut.await) }
    }

    /// A new reference on the open connection, for main-thread use (streams and
    /// consoles, whose callbacks run on the main loop). Release it with
    /// [`crate::virt::handles::release_connect`] rather than dropping it (the `virt`
    /// crate's `Drop` panics on a libvirt error). For the model's own main-loop streams and
    /// for tests; `ui/` never calls it.
    #[doc(hidden)]
    pub fn raw(&self) -> Option<Connect> {
        self.imp().raw.borrow().as_ref().and_then(clone_connect)
    }

    /// Connects to `credentials-requested` (emitted on the main thread when libvirt's
    /// auth callback needs a login; the worker waits for `respond` or `cancel`).
    pub fn connect_credentials_requested<F: Fn(&Self, &CredentialsRequest) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_local("credentials-requested", false, move |args| {
            let obj = args[0].get::<Self>().ok()?;
            let req = args[1].get::<CredentialsRequest>().ok()?;
            f(&obj, &req);
            None
        })
    }

    /// Connects to `network-changed` (a virtual network was defined, started,
    /// stopped or removed; its name).
    pub fn connect_network_changed<F: Fn(&Self, &str) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_local("network-changed", false, move |args| {
            let obj = args[0].get::<Self>().ok()?;
            let name = args[1].get::<String>().ok()?;
            f(&obj, &name);
            None
        })
    }

    /// Connects to `storage-pool-changed` (a pool was defined, started, stopped,
    /// refreshed or removed; its name).
    pub fn connect_storage_pool_changed<F: Fn(&Self, &str) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_local("storage-pool-changed", false, move |args| {
            let obj = args[0].get::<Self>().ok()?;
            let name = args[1].get::<String>().ok()?;
            f(&obj, &name);
            None
        })
    }

    /// Sets the stats tick in milliseconds (0 stops collecting). Default 1000.
    pub fn set_stats_interval(&self, ms: u32) {
        self.imp().stats_interval_ms.set(ms);
        self.restart_stats_timer();
    }

    /// The stats tick in milliseconds, as configured.
    pub fn stats_interval(&self) -> u32 {
        self.imp().stats_interval_ms.get()
    }

    /// The tick in use: the configured one, stretched while collecting is slow (0 when
    /// no tick runs).
    pub fn stats_effective_interval(&self) -> u32 {
        self.imp().stats_timer_ms.get()
    }

    /// What collecting stats has cost so far.
    pub fn stats_cost(&self) -> StatsCost {
        self.imp().stats_cost.get()
    }

    /// Restricts the stats tick to these domains (by UUID), e.g. the rows on screen
    /// plus any whose graphs are open; `None` (the default) collects for every active
    /// domain. With thousands of running domains this keeps a tick cheap.
    pub fn set_stats_domains(&self, uuids: Option<Vec<String>>) {
        self.imp()
            .stats_only
            .replace(uuids.map(|v| v.into_iter().collect()));
    }

    /// Chooses which figures the stats tick collects.
    pub fn set_stats_fields(&self, cpu: bool, memory: bool, disk: bool, net: bool) {
        self.imp().stats_fields.set(StatsFields {
            cpu,
            memory,
            disk,
            net,
        });
    }

    pub(crate) fn worker(&self) -> &Worker {
        self.imp()
            .worker
            .get()
            .expect("the worker is created in constructed()")
    }

    pub(crate) fn set_state(&self, state: ConnectionState, error: Option<String>) {
        let imp = self.imp();
        if *imp.error.borrow() != error {
            imp.error.replace(error);
            self.notify_error();
        }
        if imp.state.get() != state {
            imp.state.set(state);
            // While the host is lost its VMs keep their last known state, marked so.
            let lost = state == ConnectionState::Lost;
            for d in imp.domains.snapshot() {
                d.set_host_unreachable(lost);
            }
            self.notify_state();
        }
    }

    pub(crate) fn set_awaiting_login(&self, waiting: bool) {
        if self.imp().awaiting_login.replace(waiting) != waiting {
            self.notify_awaiting_login();
        }
    }

    pub(crate) fn set_hostname(&self, h: &str) {
        if *self.imp().hostname.borrow() != h {
            self.imp().hostname.replace(h.to_owned());
            self.notify_hostname();
        }
    }
}

fn flatten<T>(r: Result<Result<T, VirtError>, VirtError>) -> Result<T, String> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) | Err(e) => Err(error_text(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(display_name_for("qemu:///system"), "QEMU/KVM");
        assert_eq!(display_name_for("qemu:///session"), "QEMU/KVM User Session");
        assert_eq!(
            display_name_for("qemu+ssh://root@host/system"),
            "QEMU/KVM on host"
        );
        assert_eq!(display_name_for("test:///default"), "Test Host");
        assert_eq!(display_name_for("weird:///x"), "weird:///x");
    }
}
