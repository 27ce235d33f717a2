//! TEMPORARY STUB (not committed): replaced by the core branch.
#![allow(dead_code, unused)]
use glib::prelude::*;
use glib::subclass::prelude::*;
use gtk::{gio, glib};

#[derive(glib::Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[enum_type(name = "VireoConnectionState")]
pub enum ConnectionState {
    #[default]
    Disconnected,
    Connecting,
    Connected,
    Lost,
    Failed,
}
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

pub fn init() {}

mod cimp {
    use super::*;
    use std::cell::{Cell, RefCell};
    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::ConnectionObject)]
    pub struct ConnectionObject {
        #[property(get, set, construct_only)]
        pub uri: RefCell<String>,
        #[property(get)]
        pub display_name: RefCell<String>,
        #[property(get, builder(ConnectionState::default()))]
        pub state: Cell<ConnectionState>,
        #[property(get)]
        pub error: RefCell<Option<String>>,
        #[property(get)]
        pub is_demo: Cell<bool>,
        pub domains: std::cell::OnceCell<gio::ListStore>,
    }
    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionObject {
        const NAME: &'static str = "VireoConnectionObject";
        type Type = super::ConnectionObject;
    }
    #[glib::derived_properties]
    impl ObjectImpl for ConnectionObject {}
}
glib::wrapper! { pub struct ConnectionObject(ObjectSubclass<cimp::ConnectionObject>); }
impl ConnectionObject {
    pub fn new(uri: &str) -> Self {
        glib::Object::builder().property("uri", uri).build()
    }
    pub fn domains(&self) -> gio::ListStore {
        self.imp()
            .domains
            .get_or_init(gio::ListStore::new::<DomainObject>)
            .clone()
    }
    pub fn open(&self) {
        self.imp().display_name.replace("Test".into());
        self.imp().is_demo.set(true);
        for n in ["test", "other"] {
            let d: DomainObject = glib::Object::builder().property("name", n).build();
            self.domains().append(&d);
        }
        self.imp().state.set(ConnectionState::Connected);
        self.notify_state();
    }
    pub fn close(&self) {}
    pub fn set_stats_interval(&self, _ms: u32) {}
    pub fn set_stats_fields(&self, _a: bool, _b: bool, _c: bool, _d: bool) {}
}
mod dimp {
    use super::*;
    use std::cell::{Cell, RefCell};
    #[derive(glib::Properties, Default)]
    #[properties(wrapper_type = super::DomainObject)]
    pub struct DomainObject {
        #[property(get, set)]
        pub name: RefCell<String>,
        #[property(get, set)]
        pub title: RefCell<String>,
        #[property(get, set, builder(DomainState::default()))]
        pub state: Cell<DomainState>,
        #[property(get, set)]
        pub state_reason: RefCell<String>,
        #[property(get, set)]
        pub cpu_percent: Cell<f64>,
        #[property(get, set)]
        pub memory_kib: Cell<u64>,
        #[property(get, set)]
        pub memory_used_kib: Cell<u64>,
    }
    #[glib::object_subclass]
    impl ObjectSubclass for DomainObject {
        const NAME: &'static str = "VireoDomainObject";
        type Type = super::DomainObject;
    }
    #[glib::derived_properties]
    impl ObjectImpl for DomainObject {
        fn signals() -> &'static [glib::subclass::Signal] {
            static S: std::sync::OnceLock<Vec<glib::subclass::Signal>> = std::sync::OnceLock::new();
            S.get_or_init(|| vec![glib::subclass::Signal::builder("stats-updated").build()])
        }
    }
}
glib::wrapper! { pub struct DomainObject(ObjectSubclass<dimp::DomainObject>); }
