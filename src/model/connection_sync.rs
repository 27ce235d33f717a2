//! Keeping a `ConnectionObject` in step with libvirt: open, events, refreshes, stats
//! ticks, metadata loading and reconnecting (when: `reconnect.rs`).
//!
//! Events are applied at once (the state a lifecycle event implies), then the domain
//! is re-read on the worker; re-reads requested within one main-loop iteration are
//! batched into one job. Every reply carries the session generation it was asked
//! under and is dropped if the connection was closed or reopened since.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gettextrs::gettext;
use glib::prelude::*;
use glib::subclass::prelude::*;

use super::connection_object::error_text;
use super::reconnect::{socket_of, Schedule, SocketWatch, SOCKET_RETRY};
use super::{ConnectionObject, ConnectionState, CredentialsRequest, DomainObject};
use crate::virt::auth::{AuthHandler, AuthPrompt};
use crate::virt::connection::Session;
use crate::virt::domains::{self, DomainRecord};
use crate::virt::events::{
    implied_state, CloseReason, DomainEventKind, EventSink, LifecycleEvent, VirtEvent,
};
use crate::virt::handles::{clone_connect, release_connect};
use crate::virt::stats::{self, TickResult};
use crate::virt::worker::WorkerState;
use crate::virt::VirtError;

/// A login question from the worker with the channel for the answer.
pub(crate) struct AuthAsk {
    prompts: Vec<AuthPrompt>,
    reply: super::credentials_request::Reply,
}

/// How often the whole list is re-read as a safety net (events do the real work).
const SAFETY_REFRESH: Duration = Duration::from_secs(60);
/// Domains whose title and description are read per worker job after a fill.
const METADATA_BATCH: usize = 256;

/// What a successful open hands back to the main thread.
struct Opened {
    records: Vec<DomainRecord>,
    raw: Option<virt::connect::Connect>,
    hostname: String,
    host_cpus: u32,
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Some(c) = self.raw.take() {
            release_connect(c);
        }
    }
}

fn clear_source(cell: &std::cell::RefCell<Option<glib::SourceId>>) {
    if let Some(id) = cell.take() {
        id.remove();
    }
}

fn close_reason_text(r: CloseReason) -> String {
    match r {
        CloseReason::Error => gettext("The connection to the host failed"),
        CloseReason::Eof => gettext("The host closed the connection"),
        CloseReason::Keepalive => gettext("The host stopped answering (keepalive timeout)"),
        CloseReason::Client | CloseReason::Other(_) => gettext("The connection was closed"),
    }
}

impl ConnectionObject {
    /// Starts the loops that bring events and login questions to the main thread.
    pub(super) fn start_receivers(&self) {
        let (tx, rx) = async_channel::unbounded::<(u64, VirtEvent)>();
        let _ = self.imp().events_tx.set(tx);
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            while let Ok((generation, ev)) = rx.recv().await {
                let Some(obj) = weak.upgrade() else { break };
                obj.handle_event(generation, ev);
            }
        });

        let (tx, rx) = async_channel::unbounded::<AuthAsk>();
        let _ = self.imp().auth_tx.set(tx);
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            while let Ok(ask) = rx.recv().await {
                // Without the object the request is dropped, which cancels it.
                let Some(obj) = weak.upgrade() else { break };
                let req = CredentialsRequest::new(&obj.uri(), ask.prompts, ask.reply);
                obj.imp().pending_auth.set(Some(&req));
                obj.set_awaiting_login(true);
                let waiting = obj.downgrade();
                req.connect_done(move || {
                    if let Some(obj) = waiting.upgrade() {
                        obj.set_awaiting_login(false);
                    }
                });
                obj.emit_by_name::<()>("credentials-requested", &[&req]);
            }
        });
    }

    /// The auth relay for one open; `declined` is set when the user cancels a login.
    fn auth_handler(&self, declined: Arc<AtomicBool>) -> Arc<AuthHandler> {
        let tx = self.imp().auth_tx.get().cloned();
        Arc::new(move |prompts: Vec<AuthPrompt>| {
            let tx = tx.as_ref()?;
            let (reply, answer) = std::sync::mpsc::channel();
            tx.send_blocking(AuthAsk { prompts, reply }).ok()?;
            // Blocks the worker (never the main thread) until answered or cancelled.
            let a = answer.recv().ok().flatten();
            if a.is_none() {
                declined.store(true, Ordering::Relaxed);
            }
            a
        })
    }

    fn next_generation(&self) -> u64 {
        let g = self.imp().generation.get() + 1;
        self.imp().generation.set(g);
        g
    }

    fn is_current(&self, generation: u64) -> bool {
        self.imp().generation.get() == generation
    }

    /// Opens on the worker and fills the list (first open and reconnects).
    pub(super) fn start_open(&self) {
        let generation = self.next_generation();
        self.imp().opening.set(true);
        let uri = self.uri();
        let tx = self.imp().events_tx.get().cloned();
        let sink: EventSink = Arc::new(move |ev| {
            if let Some(tx) = &tx {
                let _ = tx.try_send((generation, ev));
            }
        });
        let declined = Arc::new(AtomicBool::new(false));
        let auth = self.auth_handler(declined.clone());
        let fut = self.worker().run(move |st| -> Result<Opened, VirtError> {
            st.close();
            let mut s = Session::open(&uri, &*auth, sink)?;
            let records = domains::list_all(&mut s)?;
            let opened = Opened {
                records,
                raw: clone_connect(s.conn()),
                hostname: s.hostname.clone(),
                host_cpus: s.host_cpus,
            };
            st.session = Some(s);
            Ok(opened)
        });
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|r| r);
            if let Some(obj) = weak.upgrade() {
                obj.on_open_result(generation, r, declined.load(Ordering::Relaxed));
            }
        });
    }

    fn on_open_result(&self, generation: u64, r: Result<Opened, VirtError>, declined: bool) {
        if !self.is_current(generation) {
            return;
        }
        let imp = self.imp();
        imp.opening.set(false);
        match r {
            Ok(mut o) => {
                imp.socket_watch.take();
                imp.retry_at_once.set(false);
                if let Some(old) = imp.raw.replace(o.raw.take()) {
                    release_connect(old);
                }
                imp.host_cpus.set(o.host_cpus.max(1));
                self.set_hostname(&o.hostname);
                imp.domains.reconcile(&o.records, Some(self));
                imp.reconnect_attempt.set(0);
                self.set_state(ConnectionState::Connected, None);
                imp.stats_costs_ms.borrow_mut().clear();
                self.restart_stats_timer();
                self.start_safety_timer();
                self.load_metadata(generation);
            }
            Err(e) => {
                let text = error_text(&e);
                tracing::warn!(uri = %self.uri(), error = %text, "could not open connection");
                // A login the user declined is not retried behind their back.
                if self.state() == ConnectionState::Lost && !declined {
                    self.set_state(ConnectionState::Lost, Some(text));
                    let just_appeared = imp
                        .socket_watch
                        .borrow()
                        .as_ref()
                        .is_some_and(SocketWatch::just_appeared);
                    if imp.retry_at_once.take() {
                        self.start_open();
                    } else if just_appeared {
                        self.schedule_attempt(SOCKET_RETRY);
                    } else {
                        self.schedule_reconnect();
                    }
                } else {
                    self.set_state(ConnectionState::Failed, Some(text));
                }
            }
        }
    }

    /// Reads titles and descriptions in batches after a fill.
    fn load_metadata(&self, generation: u64) {
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            loop {
                let Some(obj) = weak.upgrade() else { return };
                let fut = obj.worker().run(|st| {
                    st.session
                        .as_mut()
                        .map(|s| domains::read_metadata_batch(s, METADATA_BATCH))
                        .unwrap_or_default()
                });
                drop(obj);
                let batch = fut.await.unwrap_or_default();
                let Some(obj) = weak.upgrade() else { return };
                if batch.is_empty() || !obj.is_current(generation) {
                    return;
                }
                for (uuid, title, description) in batch {
                    if let Some(d) = obj.imp().domains.by_uuid(&uuid) {
                        d.apply_metadata(&title, &description);
                    }
                }
            }
        });
    }

    fn handle_event(&self, generation: u64, ev: VirtEvent) {
        if !self.is_current(generation) {
            return;
        }
        match ev {
            VirtEvent::Domain { uuid, kind, at, .. } => {
                let dom = self.imp().domains.by_uuid(&uuid);
                if let Some(d) = &dom {
                    d.set_last_event_instant(at);
                }
                match kind {
                    DomainEventKind::Lifecycle { event, detail } => {
                        if matches!(event, LifecycleEvent::Defined | LifecycleEvent::Undefined) {
                            self.host_domains_changed();
                        }
                        // A new definition (another client's edit): details views re-read.
                        if let (Some(d), LifecycleEvent::Defined) = (&dom, &event) {
                            d.emit_config_changed();
                        }
                        if let (Some(d), Some((state, reason))) =
                            (&dom, implied_state(event, detail))
                        {
                            d.apply_state(state, reason);
                        }
                        self.schedule_refresh(uuid);
                    }
                    DomainEventKind::Reboot => {}
                    DomainEventKind::DeviceAdded { .. }
                    | DomainEventKind::DeviceRemoved { .. }
                    | DomainEventKind::MetadataChanged { .. } => {
                        if !matches!(kind, DomainEventKind::MetadataChanged { .. }) {
                            self.host_domains_changed();
                        }
                        if let Some(d) = &dom {
                            d.emit_config_changed();
                        }
                        self.schedule_refresh(uuid);
                    }
                    DomainEventKind::JobCompleted => self.schedule_refresh(uuid),
                }
            }
            VirtEvent::Network { name, .. } => {
                self.host_network_changed(&name);
                self.emit_by_name::<()>("network-changed", &[&name]);
            }
            VirtEvent::StoragePool { name, .. } | VirtEvent::StoragePoolRefreshed { name } => {
                self.host_pool_changed(&name);
                self.emit_by_name::<()>("storage-pool-changed", &[&name]);
            }
            VirtEvent::Closed { reason } => {
                if reason != CloseReason::Client {
                    self.connection_lost(reason);
                }
            }
        }
    }

    /// Queues a re-read of one domain; re-reads within one main-loop iteration share
    /// one worker job.
    pub(super) fn schedule_refresh(&self, uuid: String) {
        let imp = self.imp();
        imp.refresh_pending.borrow_mut().insert(uuid);
        if imp.refresh_scheduled.replace(true) {
            return;
        }
        let weak = self.downgrade();
        glib::idle_add_local_once(move || {
            if let Some(obj) = weak.upgrade() {
                obj.flush_refresh();
            }
        });
    }

    fn flush_refresh(&self) {
        let imp = self.imp();
        imp.refresh_scheduled.set(false);
        let uuids: Vec<String> = imp.refresh_pending.borrow_mut().drain().collect();
        if uuids.is_empty() || self.state() != ConnectionState::Connected {
            return;
        }
        let generation = imp.generation.get();
        let fut = self.worker().run(move |st| {
            let s = st.session()?;
            Ok::<_, VirtError>(
                uuids
                    .into_iter()
                    .map(|u| {
                        let r = domains::read_one(s.conn(), &u);
                        (u, r)
                    })
                    .collect::<Vec<_>>(),
            )
        });
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|r| r);
            let Some(obj) = weak.upgrade() else { return };
            if !obj.is_current(generation) {
                return;
            }
            match r {
                Ok(results) => obj.apply_refresh(results),
                Err(e) => tracing::debug!(error = %e, "domain refresh failed"),
            }
        });
    }

    fn apply_refresh(&self, results: Vec<(String, Result<Option<DomainRecord>, VirtError>)>) {
        let list = &self.imp().domains;
        let mut new = Vec::new();
        for (uuid, r) in results {
            match r {
                Ok(Some(rec)) => match list.by_uuid(&uuid) {
                    Some(d) => d.apply_record(&rec),
                    None => new.push(DomainObject::new(&rec, Some(self))),
                },
                Ok(None) => {
                    list.remove(&uuid);
                    self.imp().stats_active.borrow_mut().remove(&uuid);
                }
                Err(e) => tracing::warn!(uuid, error = %e, "could not re-read a domain"),
            }
        }
        list.append(new);
    }

    fn connection_lost(&self, reason: CloseReason) {
        if self.state() != ConnectionState::Connected {
            return;
        }
        let text = close_reason_text(reason);
        tracing::warn!(uri = %self.uri(), reason = ?reason, "connection lost");
        self.next_generation();
        self.stop_timers();
        if let Some(c) = self.imp().raw.take() {
            release_connect(c);
        }
        self.worker().post(|st| st.close());
        self.set_state(ConnectionState::Lost, Some(text));
        self.watch_socket();
        self.schedule_reconnect();
    }

    /// While lost, tries again as soon as a local daemon's socket is (re)created.
    fn watch_socket(&self) {
        let Some(place) = socket_of(&self.uri()) else {
            return;
        };
        let weak = self.downgrade();
        let watch = SocketWatch::new(place, move || {
            let Some(obj) = weak.upgrade() else { return };
            if obj.state() != ConnectionState::Lost {
                return;
            }
            let imp = obj.imp();
            if imp.opening.get() {
                imp.retry_at_once.set(true);
            } else {
                tracing::debug!(uri = %obj.uri(), "the daemon's socket is back: reconnecting");
                obj.cancel_reconnect();
                obj.start_open();
            }
        });
        self.imp().socket_watch.replace(watch);
    }

    fn schedule_reconnect(&self) {
        let imp = self.imp();
        let attempt = imp.reconnect_attempt.get();
        imp.reconnect_attempt.set(attempt.saturating_add(1));
        let delay = Schedule::for_uri(&self.uri()).delay(attempt);
        tracing::info!(uri = %self.uri(), ?delay, attempt, "reconnecting");
        self.schedule_attempt(delay);
    }

    /// Tries to open again after `delay` (unless the connection is no longer lost).
    fn schedule_attempt(&self, delay: Duration) {
        let imp = self.imp();
        let weak = self.downgrade();
        let id = glib::timeout_add_local_once(delay, move || {
            let Some(obj) = weak.upgrade() else { return };
            // The source is done: forget its id so nobody removes it twice.
            obj.imp().reconnect_source.take();
            if obj.state() == ConnectionState::Lost {
                obj.start_open();
            }
        });
        clear_source(&imp.reconnect_source);
        imp.reconnect_source.replace(Some(id));
    }

    /// Stops a pending reconnect attempt.
    pub(super) fn cancel_reconnect(&self) {
        clear_source(&self.imp().reconnect_source);
    }

    /// Stops the stats and safety timers.
    pub(super) fn stop_timers(&self) {
        clear_source(&self.imp().stats_source);
        clear_source(&self.imp().safety_source);
    }

    fn start_safety_timer(&self) {
        clear_source(&self.imp().safety_source);
        let weak = self.downgrade();
        let id = glib::timeout_add_local(SAFETY_REFRESH, move || match weak.upgrade() {
            Some(obj) => {
                obj.safety_refresh();
                glib::ControlFlow::Continue
            }
            None => glib::ControlFlow::Break,
        });
        self.imp().safety_source.replace(Some(id));
    }

    /// Re-reads the whole list and reconciles it by UUID.
    pub fn refresh_all(&self) {
        self.safety_refresh();
    }

    fn safety_refresh(&self) {
        if self.state() != ConnectionState::Connected {
            return;
        }
        let generation = self.imp().generation.get();
        let fut = self.worker().run(|st| {
            let s = st.session.as_mut().ok_or(VirtError::NotConnected)?;
            let keep = std::mem::take(&mut s.pending_metadata);
            let r = domains::list_all(s);
            // Only the initial fill queues metadata; keep that queue as it was.
            s.pending_metadata = keep;
            r
        });
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|r| r);
            let Some(obj) = weak.upgrade() else { return };
            if !obj.is_current(generation) {
                return;
            }
            match r {
                Ok(records) => {
                    let added = obj.imp().domains.reconcile(&records, Some(&obj));
                    for u in added {
                        obj.schedule_refresh(u);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "safety refresh failed"),
            }
        });
    }

    /// (Re)starts the stats tick with the current interval.
    pub(super) fn restart_stats_timer(&self) {
        let imp = self.imp();
        clear_source(&imp.stats_source);
        imp.stats_timer_ms.set(0);
        let configured = imp.stats_interval_ms.get();
        if configured == 0 || self.state() != ConnectionState::Connected {
            return;
        }
        let costs: Vec<u32> = imp.stats_costs_ms.borrow().iter().copied().collect();
        let ms = stats::effective_interval_ms(configured, &costs);
        imp.stats_timer_ms.set(ms);
        let weak = self.downgrade();
        let id = glib::timeout_add_local(Duration::from_millis(ms.into()), move || {
            match weak.upgrade() {
                Some(obj) => {
                    obj.stats_tick();
                    glib::ControlFlow::Continue
                }
                None => glib::ControlFlow::Break,
            }
        });
        imp.stats_source.replace(Some(id));
    }

    /// Collects one tick now (the timer calls this; tests and benches may too).
    pub fn stats_tick(&self) {
        let imp = self.imp();
        // Never pile up ticks behind a slow host.
        if imp.stats_busy.replace(true) {
            return;
        }
        let fields = imp.stats_fields.get();
        let generation = imp.generation.get();
        // With a restriction, only the active domains of it are asked for.
        let only: Option<Vec<String>> = imp.stats_only.borrow().as_ref().map(|set| {
            set.iter()
                .filter(|u| {
                    imp.domains
                        .by_uuid(u)
                        .is_some_and(|d| d.state().is_active())
                })
                .cloned()
                .collect()
        });
        let fut = self.worker().run(move |st: &mut WorkerState| {
            let t = Instant::now();
            let WorkerState { session, stats } = st;
            let s = session.as_ref().ok_or(VirtError::NotConnected)?;
            stats::poll(s, fields, stats, only.as_deref()).map(|r| (r, t.elapsed()))
        });
        let weak = self.downgrade();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|r| r);
            let Some(obj) = weak.upgrade() else { return };
            obj.imp().stats_busy.set(false);
            if !obj.is_current(generation) {
                return;
            }
            match r {
                Ok((tick, cost)) => {
                    let applying = Instant::now();
                    obj.apply_tick(tick);
                    let imp = obj.imp();
                    let mut total = imp.stats_cost.get();
                    total.ticks += 1;
                    total.worker += cost;
                    total.main_thread += applying.elapsed();
                    imp.stats_cost.set(total);
                    obj.adapt_stats_interval(cost);
                }
                Err(e) => tracing::debug!(error = %e, "stats tick failed"),
            }
        });
    }

    fn adapt_stats_interval(&self, cost: Duration) {
        let imp = self.imp();
        let cost_ms = u32::try_from(cost.as_millis()).unwrap_or(u32::MAX);
        tracing::trace!(cost_ms, "stats tick");
        let costs: Vec<u32> = {
            let mut c = imp.stats_costs_ms.borrow_mut();
            if c.len() == 3 {
                c.pop_front();
            }
            c.push_back(cost_ms);
            c.iter().copied().collect()
        };
        let current = imp.stats_timer_ms.get();
        if current == 0 {
            return;
        }
        let want = stats::effective_interval_ms(imp.stats_interval_ms.get(), &costs);
        // Only restart on a real change, not on jitter.
        if want > current + current / 4 || want < current - current / 5 {
            tracing::debug!(from = current, to = want, cost_ms, "stats tick adapted");
            self.restart_stats_timer();
        }
    }

    fn apply_tick(&self, tick: TickResult) {
        let imp = self.imp();
        let list = &imp.domains;
        let host_cpus = tick.host_cpus.max(1);
        let mut active = HashSet::with_capacity(tick.domains.len());
        for r in &tick.domains {
            if let Some(d) = list.by_uuid(&r.uuid) {
                d.apply_rates(r, host_cpus);
            }
            active.insert(r.uuid.clone());
        }
        let old = imp.stats_active.replace(active);
        let only = imp.stats_only.borrow();
        for uuid in old.difference(&imp.stats_active.borrow()) {
            // A domain left out by a restriction keeps its figures and history; one
            // that stopped (and whose event was missed) is cleared.
            if only.as_ref().is_some_and(|set| !set.contains(uuid)) {
                continue;
            }
            if let Some(d) = list.by_uuid(uuid) {
                d.clear_stats();
            }
        }
        drop(only);
        self.emit_by_name::<()>("stats-tick", &[]);
    }
}
