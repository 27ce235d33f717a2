//! One storage pool in full: its state, autostart, type, location, source and space,
//! its actions (start, stop, refresh, delete saying what happens to the data) and its
//! volumes, read when the pool is shown and followed from then on.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{gio, glib, CompositeTemplate};

use super::messages::{pool_state_label, pool_type_label};
use super::pool_row::usage_text;
use super::volume_row::VolumeRow;
use super::{run_or_toast, NewVolumeDialog};
use crate::i18n::{gettext_f, ngettext_f};
use crate::model::host::PoolObject;

mod imp {
    use std::cell::{Cell, RefCell};

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/pool-view.ui")]
    pub struct PoolView {
        #[template_child]
        pub back_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub title_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub start_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub stop_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub state_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        pub type_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub location_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub source_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub usage_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub usage_bar: TemplateChild<gtk::LevelBar>,
        #[template_child]
        pub volumes_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub volume_list: TemplateChild<gtk::ListBox>,
        pub placeholder: RefCell<Option<gtk::Label>>,
        pub pool: RefCell<Option<PoolObject>>,
        pub handler: RefCell<Option<glib::SignalHandlerId>>,
        /// Set while the switch is moved to follow the model (not by a person).
        pub updating: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PoolView {
        const NAME: &'static str = "VireoPoolView";
        type Type = super::PoolView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.install_action("pool.start", None, |view, _, _| {
                if let Some(p) = view.pool() {
                    run_or_toast(view, &gettext("The pool could not start"), async move {
                        p.start().await
                    });
                }
            });
            klass.install_action("pool.stop", None, |view, _, _| {
                if let Some(p) = view.pool() {
                    run_or_toast(view, &gettext("The pool could not stop"), async move {
                        p.stop().await
                    });
                }
            });
            klass.install_action("pool.refresh", None, |view, _, _| {
                if let Some(p) = view.pool() {
                    run_or_toast(
                        view,
                        &gettext("The pool could not be refreshed"),
                        async move { p.refresh().await },
                    );
                }
            });
            klass.install_action("pool.delete", None, |view, _, _| view.delete());
            klass.install_action("pool.new-volume", None, |view, _, _| {
                if let Some(p) = view.pool() {
                    NewVolumeDialog::new(view.root().and_downcast_ref::<gtk::Window>(), &p)
                        .present();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for PoolView {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let placeholder = gtk::Label::new(None);
            placeholder.set_wrap(true);
            placeholder.set_margin_top(18);
            placeholder.set_margin_bottom(18);
            placeholder.set_margin_start(12);
            placeholder.set_margin_end(12);
            placeholder.add_css_class("dim-label");
            self.volume_list.set_placeholder(Some(&placeholder));
            self.placeholder.replace(Some(placeholder));
            self.autostart_switch.connect_active_notify(glib::clone!(
                #[weak]
                obj,
                move |switch| {
                    if obj.imp().updating.get() {
                        return;
                    }
                    if let Some(p) = obj.pool() {
                        let on = switch.is_active();
                        run_or_toast(
                            &obj,
                            &gettext("Autostart could not be changed"),
                            async move { p.set_autostart(on).await },
                        );
                    }
                }
            ));
        }

        fn dispose(&self) {
            self.obj().unbind();
            self.dispose_template();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for PoolView {}
}

glib::wrapper! {
    /// A storage pool and its volumes.
    pub struct PoolView(ObjectSubclass<imp::PoolView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for PoolView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl PoolView {
    /// The back button (shown when the page is narrow and the list is folded away).
    pub fn back_button(&self) -> gtk::Button {
        self.imp().back_button.get()
    }

    /// The pool shown.
    pub fn pool(&self) -> Option<PoolObject> {
        self.imp().pool.borrow().clone()
    }

    fn unbind(&self) {
        let imp = self.imp();
        if let (Some(p), Some(h)) = (imp.pool.take(), imp.handler.take()) {
            p.disconnect(h);
        }
        imp.volume_list
            .bind_model(None::<&gio::ListModel>, |_| gtk::ListBoxRow::new().upcast());
    }

    /// Shows `pool` and reads its volumes.
    pub fn set_pool(&self, pool: Option<&PoolObject>) {
        if self.pool().as_ref() == pool {
            return;
        }
        self.unbind();
        let Some(pool) = pool else { return };
        let imp = self.imp();
        imp.pool.replace(Some(pool.clone()));
        let h = pool.connect_notify_local(
            None,
            glib::clone!(
                #[weak(rename_to = view)]
                self,
                move |p, pspec| {
                    if pspec.name() == "active" && p.active() && !p.volumes_loaded() {
                        view.load_volumes(p);
                    }
                    view.update(p);
                }
            ),
        );
        imp.handler.replace(Some(h));
        imp.volume_list.bind_model(Some(&pool.volumes()), |item| {
            let volume = item
                .downcast_ref::<crate::model::host::VolumeObject>()
                .expect("a pool lists volumes");
            VolumeRow::new(volume).upcast()
        });
        self.update(pool);
        if pool.active() {
            self.load_volumes(pool);
        }
    }

    fn load_volumes(&self, pool: &PoolObject) {
        let p = pool.clone();
        run_or_toast(
            self,
            &gettext("The volumes could not be read"),
            async move { p.load_volumes().await },
        );
    }

    fn update(&self, p: &PoolObject) {
        let imp = self.imp();
        imp.title_label.set_label(&p.name());
        let active = p.active();
        imp.start_button.set_visible(!active);
        imp.stop_button.set_visible(active);
        self.action_set_enabled("pool.refresh", active);
        let creatable = p.pool_type().is_some_and(|t| t.can_create_volumes());
        self.action_set_enabled("pool.new-volume", active && creatable);
        imp.state_row.set_subtitle(&pool_state_label(p.state()));
        imp.updating.set(true);
        imp.autostart_switch.set_active(p.autostart());
        imp.updating.set(false);
        imp.autostart_switch.set_sensitive(p.persistent());
        imp.type_row.set_subtitle(
            &p.pool_type()
                .map(|t| pool_type_label(&t))
                .unwrap_or_default(),
        );
        imp.location_row.set_visible(p.target_path().is_some());
        imp.location_row
            .set_subtitle(&p.target_path().unwrap_or_default());
        imp.source_row.set_visible(p.source().is_some());
        imp.source_row.set_subtitle(&p.source().unwrap_or_default());
        imp.usage_row.set_subtitle(&usage_text(p));
        let fraction = if p.capacity() > 0 {
            p.allocation() as f64 / p.capacity() as f64
        } else {
            0.0
        };
        imp.usage_bar.set_value(fraction.clamp(0.0, 1.0));
        imp.usage_bar.set_visible(active && p.capacity() > 0);
        if let Some(placeholder) = imp.placeholder.borrow().as_ref() {
            placeholder.set_label(&if active {
                gettext("No volumes in this pool")
            } else {
                gettext("Start the pool to see its volumes")
            });
        }
    }

    /// Asks, then removes the pool; says what happens to its storage and offers to
    /// delete its volumes too (not when a machine still uses one).
    fn delete(&self) {
        let Some(p) = self.pool() else { return };
        let location = p.target_path().or(p.source()).unwrap_or_else(|| p.name());
        let mut body = gettext_f(
            "The pool is removed from libvirt. Its storage and the data in it stay where they are ({location}).",
            &[("location", &location)],
        );
        let volumes = p.volume_names();
        let users: Vec<String> = {
            let model = p.volumes();
            let mut u: Vec<String> = (0..model.n_items())
                .filter_map(|i| {
                    model
                        .item(i)
                        .and_downcast::<crate::model::host::VolumeObject>()
                })
                .flat_map(|v| v.used_by())
                .collect();
            u.sort();
            u.dedup();
            u
        };
        let check = (p.active() && !volumes.is_empty()).then(|| {
            let check = gtk::CheckButton::with_label(&ngettext_f(
                "Also delete its volume and its data: {names}",
                "Also delete its {n} volumes and their data: {names}",
                volumes.len() as u32,
                &[("n", &volumes.len().to_string()), ("names", &volumes.join(", "))],
            ));
            if !users.is_empty() {
                check.set_sensitive(false);
                body.push_str("\n\n");
                body.push_str(&gettext_f(
                    "Its volumes cannot be deleted here: these virtual machines still use them: {names}.",
                    &[("names", &users.join(", "))],
                ));
            }
            check
        });
        if !p.active() {
            body.push_str("\n\n");
            body.push_str(&gettext("Start the pool first to delete its volumes too."));
        }
        let view = self.downgrade();
        let dialog = super::confirm(
            self,
            &gettext_f("Delete Pool “{name}”?", &[("name", &p.name())]),
            &body,
            &gettext("_Delete"),
            glib::clone!(
                #[strong]
                check,
                move || {
                    let Some(view) = view.upgrade() else { return };
                    let with_volumes = check.as_ref().is_some_and(|c| c.is_active());
                    run_or_toast(
                        &view,
                        &gettext("The pool could not be deleted"),
                        async move { p.delete(with_volumes).await },
                    );
                }
            ),
        );
        if let Some(check) = &check {
            check.connect_toggled(glib::clone!(
                #[weak]
                dialog,
                move |c| {
                    dialog.set_response_label(
                        "confirm",
                        &if c.is_active() {
                            gettext("_Delete Pool and Volumes")
                        } else {
                            gettext("_Delete")
                        },
                    );
                }
            ));
            dialog.set_extra_child(Some(check));
        }
    }
}
