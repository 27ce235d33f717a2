//! Chooses a storage volume of a host, from every running pool: a row that lists
//! "pool / volume" entries (optionally "None" first), reads the pools' volumes itself
//! and follows them as they change. Used for a new volume's backing volume, and by any
//! form that needs an existing volume (an install medium, a VM's disk).

use std::cell::{Cell, RefCell};

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use super::followed::FollowedHost;
use super::string_list;
use crate::model::host::{HostObject, PoolObject, VolumeObject};
use crate::ui::formatting::format_size;

/// Which volumes a picker offers.
pub type VolumeFilter = Box<dyn Fn(&VolumeObject) -> bool>;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::VolumePicker)]
    #[template(resource = "/io/github/vireo/Vireo/ui/volume-picker.ui")]
    pub struct VolumePicker {
        /// The chosen volume (`None`: "None" is chosen, or nothing to choose).
        #[property(get, nullable)]
        pub volume: RefCell<Option<VolumeObject>>,
        /// Offer "None" first.
        #[property(get, set)]
        pub allow_none: Cell<bool>,
        pub(super) host: FollowedHost,
        /// Only volumes this keeps are offered.
        pub filter: RefCell<Option<VolumeFilter>>,
        pub entries: RefCell<Vec<Option<VolumeObject>>>,
        pub refilling: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumePicker {
        const NAME: &'static str = "VireoVolumePicker";
        type Type = super::VolumePicker;
        type ParentType = adw::ComboRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VolumePicker {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.connect_selected_notify(|picker| {
                if !picker.imp().refilling.get() {
                    picker.chosen_changed();
                }
            });
        }

        fn dispose(&self) {
            self.host.unfollow();
        }
    }

    impl WidgetImpl for VolumePicker {}
    impl ListBoxRowImpl for VolumePicker {}
    impl PreferencesRowImpl for VolumePicker {}
    impl ActionRowImpl for VolumePicker {}
    impl ComboRowImpl for VolumePicker {}
}

glib::wrapper! {
    /// Chooses a volume of a host.
    pub struct VolumePicker(ObjectSubclass<imp::VolumePicker>)
        @extends adw::ComboRow, adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Accessible, gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for VolumePicker {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl VolumePicker {
    /// Offers the volumes of `host` that `filter` keeps (all when `None`), reading the
    /// volumes of its running pools.
    pub fn set_host(&self, host: &HostObject, filter: Option<VolumeFilter>) {
        let imp = self.imp();
        imp.filter.replace(filter);
        imp.host.set(Some(host.clone()));
        self.refill();
    }

    fn follow(&self, object: &impl IsA<glib::Object>, handler: glib::SignalHandlerId) {
        self.imp().host.follow(object, handler);
    }

    /// Rebuilds the entries from the pools, keeping the choice when it is still there.
    fn refill(&self) {
        let imp = self.imp();
        imp.host.unfollow();
        let Some(host) = imp.host.host() else {
            return;
        };
        let pools = host.pools();
        let h = pools.connect_items_changed(glib::clone!(
            #[weak(rename_to = picker)]
            self,
            move |_, _, _, _| picker.refill()
        ));
        self.follow(&pools, h);
        let mut entries: Vec<Option<VolumeObject>> = Vec::new();
        if imp.allow_none.get() {
            entries.push(None);
        }
        for pool in pools.iter::<PoolObject>().filter_map(Result::ok) {
            let h = pool.connect_active_notify(glib::clone!(
                #[weak(rename_to = picker)]
                self,
                move |_| picker.refill()
            ));
            self.follow(&pool, h);
            if !pool.active() {
                continue;
            }
            if !pool.volumes_loaded() {
                let p = pool.clone();
                glib::spawn_future_local(async move {
                    if let Err(e) = p.load_volumes().await {
                        tracing::debug!(error = %e, "volumes for the picker");
                    }
                });
            }
            let volumes = pool.volumes();
            let h = volumes.connect_items_changed(glib::clone!(
                #[weak(rename_to = picker)]
                self,
                move |_, _, _, _| picker.refill()
            ));
            self.follow(&volumes, h);
            let filter = imp.filter.borrow();
            entries.extend(
                volumes
                    .iter::<VolumeObject>()
                    .filter_map(Result::ok)
                    .filter(|v| filter.as_ref().map_or(true, |f| f(v)))
                    .map(Some),
            );
        }
        let labels: Vec<String> = entries
            .iter()
            .map(|e| match e {
                None => gettext("None"),
                Some(v) => format!(
                    "{} / {} ({})",
                    v.pool().map(|p| p.name()).unwrap_or_default(),
                    v.name(),
                    format_size(v.capacity())
                ),
            })
            .collect();
        let previous = imp.volume.borrow().clone();
        let keep = entries
            .iter()
            .position(|e| e.is_some() && *e == previous)
            .unwrap_or(0);
        imp.refilling.set(true);
        self.set_model(Some(&string_list(&labels)));
        self.set_selected(keep as u32);
        imp.refilling.set(false);
        imp.entries.replace(entries);
        self.set_sensitive(!labels.is_empty());
        self.chosen_changed();
    }

    fn chosen_changed(&self) {
        let imp = self.imp();
        let chosen = imp
            .entries
            .borrow()
            .get(self.selected() as usize)
            .cloned()
            .flatten();
        if *imp.volume.borrow() != chosen {
            imp.volume.replace(chosen);
            self.notify_volume();
        }
    }

    /// Chooses `volume` when it is offered.
    pub fn choose(&self, volume: &VolumeObject) {
        let pos = self
            .imp()
            .entries
            .borrow()
            .iter()
            .position(|e| e.as_ref() == Some(volume));
        if let Some(pos) = pos {
            self.set_selected(pos as u32);
        }
    }

    /// The list model of entries (for tests and accessibility checks).
    pub fn entry_count(&self) -> u32 {
        self.model().map_or(0, |m: gio::ListModel| m.n_items())
    }
}
