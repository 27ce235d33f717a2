//! `DomainObject`: one virtual machine as a GObject with bindable properties.
//!
//! Properties are read-only from outside: they follow libvirt (events, refreshes and
//! stats ticks feed them through the crate-internal `apply_*` methods). Each setter
//! notifies only on a real change, so a stats tick that changes nothing costs no
//! redraw; `stats-updated` fires once per tick for sparklines.

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use glib::prelude::*;
use glib::subclass::prelude::*;
use glib::subclass::Signal;

use super::history::{History, StatKind};
use super::state_text::state_description;
use super::{ConnectionObject, OperationObject};
use crate::virt::domains::{DomainRecord, RunState};
use crate::virt::stats::{cpu_percent_of, DomainRates};

/// Since when a domain runs, as far as Vireo knows: libvirt does not say when a domain
/// started, so the model notes the moment it saw it become active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveSince {
    /// When Vireo saw the domain running first (its start, or the connection).
    pub since: SystemTime,
    /// True when Vireo saw it start (it was off before); false when it already ran
    /// when Vireo first read it, so it may have started earlier.
    pub start_seen: bool,
}

/// A domain's state (mirrors virDomainState).
#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoDomainState")]
pub enum DomainState {
    #[default]
    NoState,
    Running,
    Blocked,
    Paused,
    ShuttingDown,
    Shutoff,
    Crashed,
    PmSuspended,
}

impl From<RunState> for DomainState {
    fn from(s: RunState) -> Self {
        match s {
            RunState::NoState => Self::NoState,
            RunState::Running => Self::Running,
            RunState::Blocked => Self::Blocked,
            RunState::Paused => Self::Paused,
            RunState::ShuttingDown => Self::ShuttingDown,
            RunState::Shutoff => Self::Shutoff,
            RunState::Crashed => Self::Crashed,
            RunState::PmSuspended => Self::PmSuspended,
        }
    }
}

impl DomainState {
    /// Every state, in the order of libvirt's numbers.
    pub const ALL: [DomainState; 8] = [
        Self::NoState,
        Self::Running,
        Self::Blocked,
        Self::Paused,
        Self::ShuttingDown,
        Self::Shutoff,
        Self::Crashed,
        Self::PmSuspended,
    ];

    /// True when the domain has a running process.
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Shutoff | Self::NoState)
    }
}

mod imp {
    use super::*;

    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::DomainObject)]
    pub struct DomainObject {
        #[property(get)]
        pub(super) uuid: RefCell<String>,
        #[property(get)]
        pub(super) name: RefCell<String>,
        #[property(get)]
        pub(super) title: RefCell<String>,
        #[property(get)]
        pub(super) description: RefCell<String>,
        #[property(get, builder(DomainState::default()))]
        pub(super) state: Cell<DomainState>,
        /// The state with its reason in one phrase ("Paused by the user"); empty when
        /// the reason adds nothing to the state's own name.
        #[property(get)]
        pub(super) state_description: RefCell<String>,
        /// The host stopped answering: `state` is the last one known, not the present.
        #[property(get)]
        pub(super) host_unreachable: Cell<bool>,
        #[property(get)]
        pub(super) vcpus: Cell<u32>,
        /// The most memory the guest may have (`<memory>`), KiB.
        #[property(get)]
        pub(super) max_memory_kib: Cell<u64>,
        /// The memory the guest has now (`<currentMemory>`, or the balloon's size while
        /// it runs), KiB.
        #[property(get)]
        pub(super) current_memory_kib: Cell<u64>,
        #[property(get)]
        pub(super) autostart: Cell<bool>,
        #[property(get)]
        pub(super) persistent: Cell<bool>,
        #[property(get)]
        pub(super) has_managed_save: Cell<bool>,
        /// Guest-normalised: 100 = all vCPUs busy.
        #[property(get)]
        pub(super) cpu_percent: Cell<f64>,
        /// Host-relative: 100 = all host CPUs busy.
        #[property(get)]
        pub(super) cpu_host_percent: Cell<f64>,
        #[property(get)]
        pub(super) memory_used_kib: Cell<u64>,
        #[property(get)]
        pub(super) disk_read_bps: Cell<f64>,
        #[property(get)]
        pub(super) disk_write_bps: Cell<f64>,
        #[property(get)]
        pub(super) net_rx_bps: Cell<f64>,
        #[property(get)]
        pub(super) net_tx_bps: Cell<f64>,
        /// The long operation running on this VM (snapshot, clone, migration), for
        /// the list row and the tab to show; `None` when there is none.
        #[property(get, nullable)]
        pub(super) operation: RefCell<Option<OperationObject>>,
        pub(super) connection: glib::WeakRef<ConnectionObject>,
        pub(super) history: RefCell<History>,
        pub(super) last_event: Cell<Option<Instant>>,
        /// Since when the domain runs (`None` while it does not).
        pub(super) active_since: Cell<Option<ActiveSince>>,
        /// A state has been applied (the first one read says nothing about a start).
        pub(super) state_known: Cell<bool>,
        /// Name, title and state description in lower case, made again when one of
        /// them changes: sorting and searching compare them thousands of times.
        pub(super) folded: RefCell<Option<Folded>>,
    }

    /// The texts a list sorts and searches by, in lower case.
    pub struct Folded {
        pub name: String,
        /// Title and state description, a line each.
        pub text: String,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainObject {
        const NAME: &'static str = "VireoDomainObject";
        type Type = super::DomainObject;
    }

    #[glib::derived_properties]
    impl ObjectImpl for DomainObject {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                vec![
                    // Once per stats tick, after the figures and histories changed.
                    Signal::builder("stats-updated").build(),
                    // The definition changed (device hot-plug, metadata, redefine):
                    // details views re-read the XML.
                    Signal::builder("config-changed").build(),
                    // Vireo created, reverted, deleted or described a snapshot: the
                    // snapshot views re-read the list.
                    Signal::builder("snapshots-changed").build(),
                ]
            })
        }
    }
}

glib::wrapper! {
    /// One libvirt domain.
    pub struct DomainObject(ObjectSubclass<imp::DomainObject>);
}

macro_rules! set_cell {
    ($self:ident, $field:ident, $v:expr, $notify:ident) => {{
        let v = $v;
        if $self.imp().$field.get() != v {
            $self.imp().$field.set(v);
            $self.$notify();
        }
    }};
}

/// Sets a string property; true when it changed.
macro_rules! set_string {
    ($self:ident, $field:ident, $v:expr, $notify:ident) => {{
        let v: &str = $v;
        let changed = *$self.imp().$field.borrow() != v;
        if changed {
            $self.imp().$field.replace(v.to_owned());
            $self.$notify();
        }
        changed
    }};
}

impl DomainObject {
    /// A domain object for `rec`, belonging to `connection`.
    pub(crate) fn new(rec: &DomainRecord, connection: Option<&ConnectionObject>) -> Self {
        let obj: Self = glib::Object::new();
        obj.imp().connection.set(connection);
        obj.imp().uuid.replace(rec.uuid.clone());
        obj.apply_record(rec);
        obj
    }

    /// The connection this domain belongs to (weak: `None` once it is gone).
    pub fn connection(&self) -> Option<ConnectionObject> {
        self.imp().connection.upgrade()
    }

    /// Recent CPU % samples, oldest first (at most 60, one per tick).
    pub fn cpu_history(&self) -> Vec<f64> {
        self.history(StatKind::Cpu)
    }

    /// Recent memory-in-use samples (KiB), oldest first.
    pub fn memory_history(&self) -> Vec<f64> {
        self.history(StatKind::Memory)
    }

    /// Recent disk read + write rates (bytes/s), oldest first.
    pub fn disk_history(&self) -> Vec<f64> {
        self.imp()
            .history
            .borrow()
            .sum(StatKind::DiskRead, StatKind::DiskWrite)
    }

    /// Recent network rx + tx rates (bytes/s), oldest first.
    pub fn net_history(&self) -> Vec<f64> {
        self.imp()
            .history
            .borrow()
            .sum(StatKind::NetRx, StatKind::NetTx)
    }

    /// Recent samples of one figure, oldest first.
    pub fn history(&self, kind: StatKind) -> Vec<f64> {
        self.imp().history.borrow().get(kind)
    }

    /// The UUID without going through GValue (hot paths: list index, stats ticks).
    pub(crate) fn with_uuid<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.imp().uuid.borrow().as_str())
    }

    /// The state without going through GValue. The derived getters (`state()`,
    /// `name()`, ...) look the property up by name and copy it through a GValue at
    /// each call: a few of them per row is nothing, but sorting, searching and
    /// selecting 10,000 rows made hundreds of thousands of such calls.
    pub fn state_now(&self) -> DomainState {
        self.imp().state.get()
    }

    /// `host_unreachable` without going through GValue (see [`Self::state_now`]).
    pub fn host_unreachable_now(&self) -> bool {
        self.imp().host_unreachable.get()
    }

    /// `cpu_percent` without going through GValue (see [`Self::state_now`]).
    pub fn cpu_percent_now(&self) -> f64 {
        self.imp().cpu_percent.get()
    }

    /// `current_memory_kib` without going through GValue (see [`Self::state_now`]).
    pub fn current_memory_kib_now(&self) -> u64 {
        self.imp().current_memory_kib.get()
    }

    /// Orders by name as a person reads a list: whatever the case.
    pub fn cmp_names(&self, other: &Self) -> std::cmp::Ordering {
        self.with_folded(|a| other.with_folded(|b| a.name.cmp(&b.name)))
    }

    /// True when `word`, in lower case, is part of the name, the title or the state
    /// description, whatever their case.
    pub fn text_contains(&self, word: &str) -> bool {
        self.with_folded(|f| f.name.contains(word) || f.text.contains(word))
    }

    fn with_folded<R>(&self, f: impl FnOnce(&imp::Folded) -> R) -> R {
        let imp = self.imp();
        if imp.folded.borrow().is_none() {
            imp.folded.replace(Some(imp::Folded {
                name: imp.name.borrow().to_lowercase(),
                text: format!("{}\n{}", imp.title.borrow(), imp.state_description.borrow())
                    .to_lowercase(),
            }));
        }
        // Shared borrows only: comparing a domain with itself borrows it twice.
        let folded = imp.folded.borrow();
        f(folded.as_ref().expect("made above"))
    }

    /// Since when the domain runs, as Vireo saw it (`None` while it does not run).
    pub fn active_since(&self) -> Option<ActiveSince> {
        self.imp().active_since.get()
    }

    /// When the libvirt callback of the latest event about this domain ran (used for
    /// latency figures).
    pub fn last_event_instant(&self) -> Option<Instant> {
        self.imp().last_event.get()
    }

    pub(crate) fn set_last_event_instant(&self, at: Instant) {
        self.imp().last_event.set(Some(at));
    }

    /// Takes everything a refresh read; title and description only when read.
    pub(crate) fn apply_record(&self, rec: &DomainRecord) {
        let _guard = self.freeze_notify();
        if set_string!(self, name, &rec.name, notify_name) {
            self.imp().folded.take();
        }
        if let Some(t) = &rec.title {
            if set_string!(self, title, t, notify_title) {
                self.imp().folded.take();
            }
        }
        if let Some(d) = &rec.description {
            set_string!(self, description, d, notify_description);
        }
        self.apply_state(rec.state, rec.reason);
        set_cell!(self, vcpus, rec.vcpus, notify_vcpus);
        set_cell!(
            self,
            max_memory_kib,
            rec.max_memory_kib,
            notify_max_memory_kib
        );
        set_cell!(
            self,
            current_memory_kib,
            rec.current_memory_kib,
            notify_current_memory_kib
        );
        set_cell!(self, autostart, rec.autostart, notify_autostart);
        set_cell!(self, persistent, rec.persistent, notify_persistent);
        set_cell!(
            self,
            has_managed_save,
            rec.has_managed_save,
            notify_has_managed_save
        );
    }

    /// Sets title and description.
    pub(crate) fn apply_metadata(&self, title: &str, description: &str) {
        if set_string!(self, title, title, notify_title) {
            self.imp().folded.take();
        }
        set_string!(self, description, description, notify_description);
    }

    /// Marks the state as the last known one while the host does not answer (`true`)
    /// or as live again. Views that show the state's words hear `state-description`.
    pub(crate) fn set_host_unreachable(&self, unreachable: bool) {
        if self.imp().host_unreachable.replace(unreachable) != unreachable {
            self.notify_host_unreachable();
            self.notify_state_description();
        }
    }

    /// Sets state and reason; clears the figures when the domain stops.
    pub(crate) fn apply_state(&self, run_state: RunState, reason: i32) {
        let state = DomainState::from(run_state);
        if set_string!(
            self,
            state_description,
            &state_description(run_state, reason),
            notify_state_description
        ) {
            self.imp().folded.take();
        }
        let imp = self.imp();
        let seen_before = imp.state_known.replace(true);
        let was_active = imp.state.get().is_active();
        if !state.is_active() {
            imp.active_since.set(None);
        } else if !was_active || imp.active_since.get().is_none() {
            imp.active_since.set(Some(ActiveSince {
                since: SystemTime::now(),
                start_seen: seen_before && !was_active,
            }));
        }
        set_cell!(self, state, state, notify_state);
        if !state.is_active() {
            self.clear_stats();
        }
    }

    /// Takes one tick's figures (`None` rates on a first sample keep 0).
    pub(crate) fn apply_rates(&self, r: &DomainRates, host_cpus: u32) {
        let vcpus = self.imp().vcpus.get();
        let cpu = r.cpu_percent(vcpus).unwrap_or(0.0);
        let host = r.cpu_busy.map_or(0.0, |b| cpu_percent_of(b, host_cpus));
        let mem = r.mem_used_kib.unwrap_or(0);
        let (rd, wr) = (
            r.disk_read_bps.unwrap_or(0.0),
            r.disk_write_bps.unwrap_or(0.0),
        );
        let (rx, tx) = (r.net_rx_bps.unwrap_or(0.0), r.net_tx_bps.unwrap_or(0.0));
        set_cell!(self, cpu_percent, cpu, notify_cpu_percent);
        set_cell!(self, cpu_host_percent, host, notify_cpu_host_percent);
        set_cell!(self, memory_used_kib, mem, notify_memory_used_kib);
        set_cell!(self, disk_read_bps, rd, notify_disk_read_bps);
        set_cell!(self, disk_write_bps, wr, notify_disk_write_bps);
        set_cell!(self, net_rx_bps, rx, notify_net_rx_bps);
        set_cell!(self, net_tx_bps, tx, notify_net_tx_bps);
        {
            let mut h = self.imp().history.borrow_mut();
            h.push(StatKind::Cpu, cpu);
            h.push(StatKind::Memory, mem as f64);
            h.push(StatKind::DiskRead, rd);
            h.push(StatKind::DiskWrite, wr);
            h.push(StatKind::NetRx, rx);
            h.push(StatKind::NetTx, tx);
        }
        static STATS_UPDATED: OnceLock<glib::subclass::SignalId> = OnceLock::new();
        let id = STATS_UPDATED.get_or_init(|| {
            glib::subclass::SignalId::lookup("stats-updated", Self::static_type())
                .expect("stats-updated is registered")
        });
        self.emit::<()>(*id, &[]);
    }

    /// Zeroes the figures and forgets the history (the domain stopped).
    pub(crate) fn clear_stats(&self) {
        set_cell!(self, cpu_percent, 0.0, notify_cpu_percent);
        set_cell!(self, cpu_host_percent, 0.0, notify_cpu_host_percent);
        set_cell!(self, memory_used_kib, 0, notify_memory_used_kib);
        set_cell!(self, disk_read_bps, 0.0, notify_disk_read_bps);
        set_cell!(self, disk_write_bps, 0.0, notify_disk_write_bps);
        set_cell!(self, net_rx_bps, 0.0, notify_net_rx_bps);
        set_cell!(self, net_tx_bps, 0.0, notify_net_tx_bps);
        self.imp().history.borrow_mut().clear();
    }

    /// Shows `op` as this VM's running operation (or none).
    pub(crate) fn set_operation(&self, op: Option<&OperationObject>) {
        if self.imp().operation.borrow().as_ref() != op {
            self.imp().operation.replace(op.cloned());
            self.notify_operation();
        }
    }

    /// Connects to `snapshots-changed`.
    pub fn connect_snapshots_changed<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local("snapshots-changed", false, move |args| {
            f(&args[0].get::<Self>().ok()?);
            None
        })
    }

    /// Calls `f` after each stats tick's figures and histories changed.
    pub fn connect_stats_updated<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local("stats-updated", false, move |args| {
            f(&args[0].get::<Self>().ok()?);
            None
        })
    }

    /// Calls `f` when the VM's definition changed (a device came or went, its metadata
    /// or its whole definition changed): details views read the XML again.
    pub fn connect_config_changed<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local("config-changed", false, move |args| {
            f(&args[0].get::<Self>().ok()?);
            None
        })
    }

    pub(crate) fn emit_snapshots_changed(&self) {
        self.emit_by_name::<()>("snapshots-changed", &[]);
    }

    pub(crate) fn emit_config_changed(&self) {
        self.emit_by_name::<()>("config-changed", &[]);
    }
}

impl From<DomainState> for RunState {
    fn from(s: DomainState) -> Self {
        match s {
            DomainState::NoState => RunState::NoState,
            DomainState::Running => RunState::Running,
            DomainState::Blocked => RunState::Blocked,
            DomainState::Paused => RunState::Paused,
            DomainState::ShuttingDown => RunState::ShuttingDown,
            DomainState::Shutoff => RunState::Shutoff,
            DomainState::Crashed => RunState::Crashed,
            DomainState::PmSuspended => RunState::PmSuspended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, title: &str) -> DomainRecord {
        DomainRecord {
            uuid: format!("uuid-{name}"),
            name: name.into(),
            title: Some(title.into()),
            ..Default::default()
        }
    }

    /// The lower-case texts that sorting and searching use follow a rename, a new
    /// title and a new state (they are kept, not read at each comparison).
    #[test]
    fn folded_texts_follow_changes() {
        let a = DomainObject::new(&record("Web-Server", "Front End"), None);
        let b = DomainObject::new(&record("db", ""), None);
        assert_eq!(a.cmp_names(&b), std::cmp::Ordering::Greater);
        assert_eq!(a.cmp_names(&a), std::cmp::Ordering::Equal);
        assert!(a.text_contains("web-s") && a.text_contains("front"));
        assert!(!a.text_contains("Web"), "words come in lower case");

        a.apply_record(&record("Alpha", "Back End"));
        assert_eq!(a.cmp_names(&b), std::cmp::Ordering::Less);
        assert!(a.text_contains("alpha") && !a.text_contains("web"));
        assert!(a.text_contains("back") && !a.text_contains("front"));

        a.apply_metadata("Gateway", "");
        assert!(a.text_contains("gateway") && !a.text_contains("back"));

        assert!(!a.text_contains("by the user"));
        a.apply_state(RunState::Paused, 1);
        assert!(a.text_contains(&a.state_description().to_lowercase()));
        assert!(a.text_contains("by the user"));
        assert_eq!(a.state_now(), DomainState::Paused);
    }

    /// A VM that already runs when first read may have started earlier; one seen
    /// starting was; a stop forgets it, and a pause keeps it.
    #[test]
    fn active_since_says_whether_the_start_was_seen() {
        let running = DomainRecord {
            state: RunState::Running,
            ..record("up", "")
        };
        let a = DomainObject::new(&running, None);
        let first = a.active_since().expect("it runs");
        assert!(!first.start_seen);
        a.apply_state(RunState::Paused, 1);
        assert_eq!(a.active_since(), Some(first));
        a.apply_state(RunState::Shutoff, 1);
        assert_eq!(a.active_since(), None);
        a.apply_state(RunState::Running, 1);
        assert!(a.active_since().expect("it runs again").start_seen);

        let off = DomainObject::new(&record("off", ""), None);
        assert_eq!(off.active_since(), None);
    }
}
