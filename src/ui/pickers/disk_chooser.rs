//! A VM's disk: a new volume in one of the host's storage pools (the host model's
//! pools, which follow libvirt's events), an existing image or device, or none. A host
//! without a "default" pool still offers it: creation makes it, as virt-manager does.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::followed::FollowedHost;
use super::{show_error, string_list};
use crate::i18n::gettext_f;
use crate::model::host::PoolObject;
use crate::model::new_vm::Storage;
use crate::model::ConnectionObject;
use crate::ui::formatting::format_size;
use crate::ui::new_vm::StoragePart;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::DiskChooser)]
    #[template(resource = "/io/github/vireo/Vireo/ui/disk-chooser.ui")]
    pub struct DiskChooser {
        /// The host whose pools are offered.
        #[property(name = "connection", get = Self::connection, set = Self::set_connection, nullable, type = Option<ConnectionObject>)]
        pub(super) host: FollowedHost,
        pub(super) connection: RefCell<Option<ConnectionObject>>,
        /// The chosen disk.
        #[property(get)]
        pub storage: RefCell<StoragePart>,
        /// Size of a new disk, GiB.
        #[property(get = Self::size_gib, set = Self::set_size_gib, type = u64)]
        pub size_gib: std::marker::PhantomData<u64>,
        /// Only a new volume will do (a cloud image's changes need one).
        #[property(get, set = Self::set_new_only)]
        pub new_only: Cell<bool>,
        /// "No Disk" is not offered: the wizard's VM may have no disk, but a disk
        /// being added must be one.
        #[property(get, set = Self::set_hides_none)]
        pub hides_none: Cell<bool>,
        #[template_child]
        pub new_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub existing_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub existing_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub none_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub none_check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub pool_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub size_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub size_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub path_row: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub error: TemplateChild<gtk::Label>,
        /// Pool names, one per row of `pool_row`.
        pub pools: RefCell<Vec<String>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DiskChooser {
        const NAME: &'static str = "VireoDiskChooser";
        type Type = super::DiskChooser;
        type ParentType = adw::PreferencesGroup;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.install_action("disk.browse", None, |chooser, _, _| {
                let row = chooser.imp().path_row.get();
                crate::ui::choose_path(
                    chooser,
                    &gettextrs::gettext("Choose a File"),
                    gtk::FileChooserAction::Open,
                    &gettextrs::gettext("_Open"),
                    None,
                    move |path| row.set_text(&path.to_string_lossy()),
                );
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl DiskChooser {
        fn connection(&self) -> Option<ConnectionObject> {
            self.connection.borrow().clone()
        }

        fn set_connection(&self, connection: Option<ConnectionObject>) {
            let host = connection.as_ref().map(ConnectionObject::host);
            self.connection.replace(connection);
            if self.host.set(host) {
                self.pools.borrow_mut().clear();
                self.obj().reload();
            }
        }

        fn size_gib(&self) -> u64 {
            self.size_spin.value() as u64
        }

        fn set_size_gib(&self, gib: u64) {
            self.size_spin.set_value(gib as f64);
        }

        fn set_new_only(&self, new_only: bool) {
            self.new_only.set(new_only);
            if new_only {
                self.new_check.set_active(true);
            }
            self.existing_row.set_sensitive(!new_only);
            self.none_row.set_sensitive(!new_only);
            self.obj().update();
        }

        fn set_hides_none(&self, hides: bool) {
            self.hides_none.set(hides);
            if hides && self.none_check.is_active() {
                self.new_check.set_active(true);
            }
            self.none_row.set_visible(!hides);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DiskChooser {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            for check in [&*self.new_check, &*self.existing_check, &*self.none_check] {
                check.connect_toggled(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.update()
                ));
            }
            self.pool_row.connect_selected_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            self.size_spin.connect_value_changed(glib::clone!(
                #[weak]
                obj,
                move |_| {
                    obj.notify_size_gib();
                    obj.update();
                }
            ));
            self.path_row.connect_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.update()
            ));
            obj.set_pools(&[]);
        }

        fn dispose(&self) {
            self.host.unfollow();
        }
    }

    impl WidgetImpl for DiskChooser {}
    impl PreferencesGroupImpl for DiskChooser {}
}

glib::wrapper! {
    /// Chooses a VM's disk: new volume, existing image or none.
    pub struct DiskChooser(ObjectSubclass<imp::DiskChooser>)
        @extends adw::PreferencesGroup, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DiskChooser {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl DiskChooser {
    /// Offers the host's pools again (keeping the chosen one when it is still there),
    /// and follows them: the list, each pool's state and free space.
    pub fn reload(&self) {
        let imp = self.imp();
        imp.host.unfollow();
        let Some(host) = imp.host.host() else {
            self.set_pools(&[]);
            return;
        };
        let pools = host.pools();
        let h = pools.connect_items_changed(glib::clone!(
            #[weak(rename_to = chooser)]
            self,
            move |_, _, _, _| chooser.reload()
        ));
        imp.host.follow(&pools, h);
        let list: Vec<PoolObject> = pools.iter::<PoolObject>().filter_map(Result::ok).collect();
        for p in &list {
            for property in ["active", "available"] {
                let h = p.connect_notify_local(
                    Some(property),
                    glib::clone!(
                        #[weak(rename_to = chooser)]
                        self,
                        move |_, _| chooser.relabel()
                    ),
                );
                imp.host.follow(p, h);
            }
        }
        self.set_pools(&list);
    }

    /// Rewrites the labels (a pool started, or its free space changed).
    fn relabel(&self) {
        let list: Vec<PoolObject> = self
            .imp()
            .host
            .host()
            .map(|h| {
                h.pools()
                    .iter::<PoolObject>()
                    .filter_map(Result::ok)
                    .collect()
            })
            .unwrap_or_default();
        self.set_pools(&list);
    }

    /// Lists the running pools; "default" first, offered even when missing.
    fn set_pools(&self, pools: &[PoolObject]) {
        let imp = self.imp();
        let previous = imp
            .pools
            .borrow()
            .get(imp.pool_row.selected() as usize)
            .cloned();
        let mut names: Vec<String> = pools
            .iter()
            .filter(|p| p.active())
            .map(|p| p.name())
            .collect();
        if !pools.iter().any(|p| p.name() == "default") {
            names.push("default".to_owned());
        }
        // "default" first, then by name.
        names.sort_by(|a, b| (a != "default").cmp(&(b != "default")).then(a.cmp(b)));
        let labels: Vec<String> = names
            .iter()
            .map(|n| match pools.iter().find(|p| &p.name() == n) {
                Some(p) => gettext_f(
                    "{pool} ({size} free)",
                    &[("pool", n), ("size", &format_size(p.available()))],
                ),
                None => gettext_f("{pool} (will be created)", &[("pool", n)]),
            })
            .collect();
        let selected = previous
            .and_then(|p| names.iter().position(|n| *n == p))
            .unwrap_or(0);
        imp.pools.replace(names);
        imp.pool_row.set_model(Some(&string_list(&labels)));
        imp.pool_row.set_selected(selected as u32);
        self.update();
    }

    /// Shows (or clears) a problem under the chooser, marking the field it is about.
    pub fn set_error(&self, text: Option<String>) {
        let imp = self.imp();
        let field: &gtk::Widget = if imp.existing_check.is_active() {
            imp.path_row.upcast_ref()
        } else {
            imp.size_row.upcast_ref()
        };
        for row in [
            imp.path_row.upcast_ref::<gtk::Widget>(),
            imp.size_row.upcast_ref(),
        ] {
            row.remove_css_class("error");
        }
        show_error(&imp.error, Some(field), text);
    }

    fn update(&self) {
        let imp = self.imp();
        let new = imp.new_check.is_active();
        let existing = imp.existing_check.is_active();
        imp.pool_row.set_visible(new);
        imp.size_row.set_visible(new);
        imp.path_row.set_visible(existing);
        let storage = if existing {
            Storage::Existing {
                path: imp.path_row.text().trim().to_owned(),
            }
        } else if imp.none_check.is_active() {
            Storage::None
        } else {
            Storage::NewVolume {
                pool: imp
                    .pools
                    .borrow()
                    .get(imp.pool_row.selected() as usize)
                    .cloned()
                    .unwrap_or_else(|| "default".to_owned()),
                size_gib: imp.size_spin.value() as u64,
            }
        };
        if imp.storage.borrow().0 != storage {
            imp.storage.replace(StoragePart(storage));
            self.notify_storage();
        }
    }
}
