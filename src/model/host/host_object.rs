//! `HostObject`: the host of one connection as a GObject: its facts, its CPU and
//! memory load over time (sampled only while someone watches), and its pools and
//! networks as list models.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::sync::OnceLock;
use std::time::Duration;

use gio::prelude::*;
use glib::subclass::prelude::*;
use glib::subclass::Signal;

use super::keyed;
use super::{HostError, NetworkObject, PoolObject};
use crate::model::ConnectionObject;
use crate::virt::host::facts::{self, HostFacts, NodeSample};
use crate::virt::host::networks::{self, NetworkSpec};
use crate::virt::host::pools::{self, PoolSpec, PoolTypeOffer};
use crate::virt::host::usage::{self, DomainUse};
use crate::virt::host::volumes::VolumeInfo;
use crate::virt::VirtError;

/// How many load samples the graphs keep (two minutes at the default tick).
pub const LOAD_HISTORY: usize = 120;

mod imp {
    use super::*;

    #[derive(glib::Properties)]
    #[properties(wrapper_type = super::HostObject)]
    pub struct HostObject {
        #[property(name = "hostname", get, type = String, member = hostname)]
        #[property(name = "uri", get, type = String, member = uri)]
        #[property(name = "driver", get, type = String, member = driver)]
        #[property(name = "libvirt-version", get, type = String, member = libvirt_version)]
        #[property(name = "hypervisor-version", get, type = Option<String>, member = hypervisor_version)]
        #[property(name = "arch", get, type = String, member = arch)]
        #[property(name = "cpu-model", get, type = String, member = cpu_model)]
        #[property(name = "cpu-vendor", get, type = Option<String>, member = cpu_vendor)]
        #[property(name = "cpus", get, type = u32, member = cpus)]
        #[property(name = "mhz", get, type = u32, member = mhz)]
        #[property(name = "memory-kib", get, type = u64, member = memory_kib)]
        pub(super) facts: RefCell<HostFacts>,
        /// True once facts, pools and networks were read.
        #[property(get)]
        pub(super) loaded: Cell<bool>,
        /// True while they are being read.
        #[property(get)]
        pub(super) loading: Cell<bool>,
        /// Why the last read failed (libvirt's text).
        #[property(get)]
        pub(super) error: RefCell<Option<String>>,
        /// Host CPU busy, 0-100; -1 until two samples were taken.
        #[property(get)]
        pub(super) cpu_percent: Cell<f64>,
        /// Memory in use, KiB (0 until sampled).
        #[property(get)]
        pub(super) memory_used_kib: Cell<u64>,
        /// All memory, KiB.
        #[property(get)]
        pub(super) memory_total_kib: Cell<u64>,
        pub(super) pools: gio::ListStore,
        pub(super) networks: gio::ListStore,
        pub(super) connection: glib::WeakRef<ConnectionObject>,
        /// Bumped when the lists are cleared: answers to older reads are dropped.
        pub(super) generation: Cell<u64>,
        pub(super) watchers: Cell<u32>,
        pub(super) tick: RefCell<Option<glib::SourceId>>,
        pub(super) tick_busy: Cell<bool>,
        pub(super) previous: Cell<Option<NodeSample>>,
        /// Samples taken since the load was first watched.
        pub(super) samples: Cell<u32>,
        pub(super) cpu_history: RefCell<VecDeque<f64>>,
        pub(super) memory_history: RefCell<VecDeque<f64>>,
        /// Read once: read again after a reconnect.
        pub(super) wanted: Cell<bool>,
        pub(super) pending_pools: RefCell<HashSet<String>>,
        pub(super) pending_networks: RefCell<HashSet<String>>,
        pub(super) pending_uses: Cell<bool>,
        pub(super) flush_scheduled: Cell<bool>,
    }

    impl Default for HostObject {
        fn default() -> Self {
            HostObject {
                facts: RefCell::default(),
                loaded: Cell::new(false),
                loading: Cell::new(false),
                error: RefCell::default(),
                cpu_percent: Cell::new(-1.0),
                memory_used_kib: Cell::new(0),
                memory_total_kib: Cell::new(0),
                pools: gio::ListStore::new::<PoolObject>(),
                networks: gio::ListStore::new::<NetworkObject>(),
                connection: glib::WeakRef::new(),
                generation: Cell::new(0),
                watchers: Cell::new(0),
                tick: RefCell::default(),
                tick_busy: Cell::new(false),
                previous: Cell::new(None),
                samples: Cell::new(0),
                cpu_history: RefCell::default(),
                memory_history: RefCell::default(),
                wanted: Cell::new(false),
                pending_pools: RefCell::default(),
                pending_networks: RefCell::default(),
                pending_uses: Cell::new(false),
                flush_scheduled: Cell::new(false),
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostObject {
        const NAME: &'static str = "VireoHostObject";
        type Type = super::HostObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostObject {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            // After each load sample, once figures and histories changed.
            SIGNALS.get_or_init(|| vec![Signal::builder("load-updated").build()])
        }

        fn dispose(&self) {
            if let Some(id) = self.tick.take() {
                id.remove();
            }
        }
    }
}

glib::wrapper! {
    /// A host: facts, load, pools and networks.
    pub struct HostObject(ObjectSubclass<imp::HostObject>);
}

/// Keeps the host's load sampled while alive (one per page that shows the graphs).
#[must_use = "the load is sampled only while the watch is kept"]
pub struct LoadWatch(glib::WeakRef<HostObject>);

impl Drop for LoadWatch {
    fn drop(&mut self) {
        if let Some(host) = self.0.upgrade() {
            host.unwatch();
        }
    }
}

fn push(ring: &RefCell<VecDeque<f64>>, v: f64) {
    let mut r = ring.borrow_mut();
    if r.len() == LOAD_HISTORY {
        r.pop_front();
    }
    r.push_back(v);
}

impl HostObject {
    pub(crate) fn new(connection: &ConnectionObject) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().connection.set(Some(connection));
        obj
    }

    fn connection(&self) -> Result<ConnectionObject, HostError> {
        self.imp()
            .connection
            .upgrade()
            .ok_or(HostError::Virt(VirtError::NotConnected))
    }

    /// The storage pools, sorted by name (empty until [`Self::load`]).
    pub fn pools(&self) -> gio::ListModel {
        self.imp().pools.clone().upcast()
    }

    /// The virtual networks, sorted by name (empty until [`Self::load`]).
    pub fn networks(&self) -> gio::ListModel {
        self.imp().networks.clone().upcast()
    }

    /// The pool named `name`.
    pub fn pool(&self, name: &str) -> Option<PoolObject> {
        keyed::find(&self.imp().pools, name)
    }

    /// The network named `name`.
    pub fn network(&self, name: &str) -> Option<NetworkObject> {
        keyed::find(&self.imp().networks, name)
    }

    /// The names of all pools.
    pub fn pool_names(&self) -> Vec<String> {
        keyed::items::<PoolObject>(&self.imp().pools)
            .iter()
            .map(|p| p.name())
            .collect()
    }

    /// The names of all networks.
    pub fn network_names(&self) -> Vec<String> {
        keyed::items::<NetworkObject>(&self.imp().networks)
            .iter()
            .map(|n| n.name())
            .collect()
    }

    /// Where new directory pools go by default: libvirt's images directory, or the
    /// user's own for a session connection.
    pub fn default_pool_parent(&self) -> String {
        let uri = self
            .connection()
            .map(|c| c.uri().to_string())
            .unwrap_or_default();
        if crate::virt::uri::UriInfo::parse(&uri).is_session() {
            glib::user_data_dir()
                .join("libvirt/images")
                .to_string_lossy()
                .into_owned()
        } else {
            "/var/lib/libvirt/images".to_owned()
        }
    }

    /// The facts as plain data.
    pub fn facts(&self) -> HostFacts {
        self.imp().facts.borrow().clone()
    }

    /// Reads facts, pools (with the volumes of pools whose volumes were read before)
    /// and networks; from then on they follow libvirt's events.
    pub async fn load(&self) -> Result<(), HostError> {
        let imp = self.imp();
        let connection = self.connection()?;
        let generation = imp.generation.get();
        imp.wanted.set(true);
        imp.loading.set(true);
        self.notify_loading();
        let reread: Vec<String> = keyed::items::<PoolObject>(&imp.pools)
            .into_iter()
            .filter(|p| p.volumes_loaded())
            .map(|p| p.name())
            .collect();
        let r = connection
            .host_job(move |c| {
                let facts = facts::read(c)?;
                let pools = pools::list(c)?;
                let nets = networks::list(c)?;
                let uses = usage::read_all(c)?;
                let vols: Vec<(String, Vec<VolumeInfo>)> = reread
                    .into_iter()
                    .filter_map(|p| {
                        Some((p.clone(), crate::virt::host::volumes::list(c, &p).ok()?))
                    })
                    .collect();
                Ok((facts, pools, nets, uses, vols))
            })
            .await;
        if imp.generation.get() != generation {
            return Err(HostError::Virt(VirtError::NotConnected));
        }
        imp.loading.set(false);
        self.notify_loading();
        let error = r.as_ref().err().map(ToString::to_string);
        if *imp.error.borrow() != error {
            imp.error.replace(error);
            self.notify_error();
        }
        let (facts, pools, nets, uses, vols) = r?;
        let total = facts.memory_kib;
        imp.facts.replace(facts);
        keyed::notify_all(self, &["loaded", "loading", "error"]);
        if imp.memory_total_kib.replace(total) != total {
            self.notify_memory_total_kib();
        }
        keyed::reconcile::<PoolObject>(&imp.pools, pools);
        for p in keyed::items::<PoolObject>(&imp.pools) {
            p.set_connection(&connection);
        }
        for (name, v) in vols {
            if let Some(p) = self.pool(&name) {
                p.apply_volumes(v, &uses);
            }
        }
        self.apply_networks(nets, &uses, &connection);
        if !imp.loaded.replace(true) {
            self.notify_loaded();
        }
        Ok(())
    }

    fn apply_networks(
        &self,
        nets: Vec<networks::NetworkInfo>,
        uses: &[DomainUse],
        connection: &ConnectionObject,
    ) {
        let infos = nets
            .into_iter()
            .map(|n| {
                let users = usage::users_of_network(uses, &n.name);
                (n, users)
            })
            .collect();
        keyed::reconcile::<NetworkObject>(&self.imp().networks, infos);
        for n in keyed::items::<NetworkObject>(&self.imp().networks) {
            n.set_connection(connection);
        }
    }

    /// True once something asked for the host to be read (it is read again after a
    /// reconnect).
    pub(crate) fn is_wanted(&self) -> bool {
        self.imp().wanted.get()
    }

    /// Starts reading the host when nothing asked for it yet (for the pickers, which
    /// only need the lists to fill in the end; a failure is in `error`).
    pub fn ensure_loaded(&self) {
        if self.loaded() || self.loading() {
            return;
        }
        let host = self.clone();
        glib::spawn_future_local(async move {
            if let Err(e) = host.load().await {
                tracing::debug!(error = %e, "reading the host for a picker");
            }
        });
    }

    /// Forgets the lists (the connection closed or was lost); a later [`Self::load`]
    /// reads them again.
    pub(crate) fn clear(&self) {
        let imp = self.imp();
        imp.generation.set(imp.generation.get() + 1);
        imp.pools.remove_all();
        imp.networks.remove_all();
        imp.pending_pools.borrow_mut().clear();
        imp.pending_networks.borrow_mut().clear();
        imp.previous.set(None);
        if imp.loaded.replace(false) {
            self.notify_loaded();
        }
    }

    /// The pool types a new pool can be made of on this host.
    pub async fn pool_types(&self) -> Result<Vec<PoolTypeOffer>, HostError> {
        self.connection()?
            .host_job(|c| Ok(pools::offered_types(c)))
            .await
    }

    /// Defines, builds and starts a new pool (see `virt::host::pools::create`).
    pub async fn create_pool(&self, spec: PoolSpec) -> Result<PoolObject, HostError> {
        let connection = self.connection()?;
        let info = connection
            .host_job(move |c| pools::create(c, &spec))
            .await?;
        let name = info.name.clone();
        let pool = keyed::upsert::<PoolObject>(&self.imp().pools, &name, Some(info))
            .ok_or(HostError::Gone)?;
        pool.set_connection(&connection);
        Ok(pool)
    }

    /// Defines and starts a new network (see `virt::host::networks::create`).
    pub async fn create_network(&self, spec: NetworkSpec) -> Result<NetworkObject, HostError> {
        let connection = self.connection()?;
        let info = connection
            .host_job(move |c| networks::create(c, &spec))
            .await?;
        let name = info.name.clone();
        let net =
            keyed::upsert::<NetworkObject>(&self.imp().networks, &name, Some((info, Vec::new())))
                .ok_or(HostError::Gone)?;
        net.set_connection(&connection);
        Ok(net)
    }

    /// Re-reads these pools and networks soon (events and our own changes; several
    /// within one main-loop turn share one worker job).
    pub(crate) fn schedule(&self, pool: Option<&str>, network: Option<&str>, uses: bool) {
        let imp = self.imp();
        if !imp.loaded.get() {
            return;
        }
        if let Some(p) = pool {
            imp.pending_pools.borrow_mut().insert(p.to_owned());
        }
        if let Some(n) = network {
            imp.pending_networks.borrow_mut().insert(n.to_owned());
        }
        if uses {
            imp.pending_uses.set(true);
        }
        if imp.flush_scheduled.replace(true) {
            return;
        }
        let weak = self.downgrade();
        glib::idle_add_local_once(move || {
            if let Some(host) = weak.upgrade() {
                glib::spawn_future_local(async move { host.flush().await });
            }
        });
    }

    async fn flush(&self) {
        let imp = self.imp();
        imp.flush_scheduled.set(false);
        let Ok(connection) = self.connection() else {
            return;
        };
        let generation = imp.generation.get();
        let pool_names: Vec<String> = imp.pending_pools.borrow_mut().drain().collect();
        let net_names: Vec<String> = imp.pending_networks.borrow_mut().drain().collect();
        let all_uses = imp.pending_uses.replace(false);
        let with_volumes: Vec<bool> = pool_names
            .iter()
            .map(|p| self.pool(p).is_some_and(|p| p.volumes_loaded()))
            .collect();
        let need_uses = all_uses || !net_names.is_empty() || with_volumes.iter().any(|v| *v);
        let r = connection
            .host_job(move |c| {
                let mut pools = Vec::new();
                for (name, vols) in pool_names.into_iter().zip(with_volumes) {
                    let info = pools::read(c, &name)?;
                    let volumes = match (&info, vols) {
                        (Some(i), true) if i.state.is_active() => {
                            crate::virt::host::volumes::list(c, &name).ok()
                        }
                        _ => None,
                    };
                    pools.push((name, info, volumes));
                }
                let mut nets = Vec::new();
                for name in net_names {
                    let info = networks::read(c, &name)?;
                    nets.push((name, info));
                }
                let uses = if need_uses {
                    Some(usage::read_all(c)?)
                } else {
                    None
                };
                Ok((pools, nets, uses))
            })
            .await;
        if imp.generation.get() != generation {
            return;
        }
        let (pools, nets, uses) = match r {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(error = %e, "re-reading pools and networks failed");
                return;
            }
        };
        let uses = uses.unwrap_or_default();
        for (name, info, volumes) in pools {
            if let Some(p) = keyed::upsert::<PoolObject>(&imp.pools, &name, info) {
                p.set_connection(&connection);
                if let Some(v) = volumes {
                    p.apply_volumes(v, &uses);
                }
            }
        }
        for (name, info) in nets {
            let users = usage::users_of_network(&uses, &name);
            if let Some(n) =
                keyed::upsert::<NetworkObject>(&imp.networks, &name, info.map(|i| (i, users)))
            {
                n.set_connection(&connection);
            }
        }
        if all_uses {
            for p in keyed::items::<PoolObject>(&imp.pools) {
                p.apply_uses(&uses);
            }
            for n in keyed::items::<NetworkObject>(&imp.networks) {
                n.apply_uses(&uses);
            }
        }
    }

    /// Samples the host's CPU and memory load (once a second, or at the connection's
    /// stats interval) for as long as the returned watch is kept.
    pub fn watch_load(&self) -> LoadWatch {
        let imp = self.imp();
        imp.watchers.set(imp.watchers.get() + 1);
        if imp.watchers.get() == 1 {
            self.start_ticking();
        }
        LoadWatch(self.downgrade())
    }

    /// True while something watches the load (and it is being sampled).
    pub fn is_sampling(&self) -> bool {
        self.imp().tick.borrow().is_some()
    }

    fn unwatch(&self) {
        let imp = self.imp();
        imp.watchers.set(imp.watchers.get().saturating_sub(1));
        if imp.watchers.get() == 0 {
            if let Some(id) = imp.tick.take() {
                id.remove();
            }
            imp.previous.set(None);
        }
    }

    fn start_ticking(&self) {
        let interval = self
            .connection()
            .map(|c| c.stats_interval())
            .unwrap_or(1000)
            .clamp(500, 10_000);
        self.sample();
        let weak = self.downgrade();
        let id =
            glib::timeout_add_local(Duration::from_millis(interval as u64), move || {
                match weak.upgrade() {
                    Some(host) => {
                        host.sample();
                        glib::ControlFlow::Continue
                    }
                    None => glib::ControlFlow::Break,
                }
            });
        self.imp().tick.replace(Some(id));
    }

    /// One sample: one worker job with one CPU and one memory call.
    fn sample(&self) {
        let imp = self.imp();
        let Ok(connection) = self.connection() else {
            return;
        };
        if imp.tick_busy.replace(true) {
            // The last sample is still on its way (slow remote host): skip this tick.
            return;
        }
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            let r = connection.host_job(|c| Ok(facts::sample(c))).await;
            let Some(host) = weak.upgrade() else { return };
            host.imp().tick_busy.set(false);
            if let Ok(sample) = r {
                host.apply_sample(sample);
            }
        });
    }

    fn apply_sample(&self, now: NodeSample) {
        let imp = self.imp();
        let total = imp.facts.borrow().memory_kib;
        let load = facts::load(imp.previous.get().as_ref(), &now, total);
        imp.previous.set(Some(now));
        imp.samples.set(imp.samples.get().saturating_add(1));
        let _guard = self.freeze_notify();
        if let Some(cpu) = load.cpu_percent {
            push(&imp.cpu_history, cpu);
            if imp.cpu_percent.replace(cpu) != cpu {
                self.notify_cpu_percent();
            }
        }
        if let Some(used) = load.memory_used_kib {
            push(&imp.memory_history, used as f64);
            if imp.memory_used_kib.replace(used) != used {
                self.notify_memory_used_kib();
            }
        }
        if let Some(t) = load.memory_total_kib {
            if imp.memory_total_kib.replace(t) != t {
                self.notify_memory_total_kib();
            }
        }
        drop(_guard);
        self.emit_by_name::<()>("load-updated", &[]);
    }

    /// How many load samples were taken (a host whose CPU figure is still unknown
    /// after two does not report one).
    pub fn samples_taken(&self) -> u32 {
        self.imp().samples.get()
    }

    /// Recent CPU busy percentages, oldest first.
    pub fn cpu_history(&self) -> Vec<f64> {
        self.imp().cpu_history.borrow().iter().copied().collect()
    }

    /// Recent memory in use, KiB, oldest first.
    pub fn memory_history(&self) -> Vec<f64> {
        self.imp().memory_history.borrow().iter().copied().collect()
    }

    /// Connects to `load-updated` (after each load sample).
    pub fn connect_load_updated<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local("load-updated", false, move |args| {
            let obj = args[0].get::<Self>().ok()?;
            f(&obj);
            None
        })
    }
}
