//! One storage pool in the host page's pool list: name, type and state, and how full
//! it is (a bar and the free space).

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::messages::{pool_state_label, pool_type_label};
use crate::i18n::gettext_f;
use crate::model::host::{PoolObject, PoolType};
use crate::ui::formatting::format_size;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/pool-row.ui")]
    pub struct PoolRow {
        #[template_child]
        pub icon: TemplateChild<gtk::Image>,
        #[template_child]
        pub name_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub kind_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub usage_bar: TemplateChild<gtk::LevelBar>,
        #[template_child]
        pub usage_label: TemplateChild<gtk::Label>,
        pub pool: RefCell<Option<PoolObject>>,
        pub handler: RefCell<Option<glib::SignalHandlerId>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PoolRow {
        const NAME: &'static str = "VireoPoolRow";
        type Type = super::PoolRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for PoolRow {
        fn dispose(&self) {
            if let (Some(pool), Some(h)) = (self.pool.take(), self.handler.take()) {
                pool.disconnect(h);
            }
        }
    }
    impl WidgetImpl for PoolRow {}
    impl ListBoxRowImpl for PoolRow {}
}

glib::wrapper! {
    /// A pool in the pool list.
    pub struct PoolRow(ObjectSubclass<imp::PoolRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Accessible, gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

/// The icon of a pool type.
pub fn pool_icon(t: Option<&PoolType>) -> &'static str {
    match t {
        Some(PoolType::Dir) => "folder-symbolic",
        Some(PoolType::Netfs | PoolType::Iscsi | PoolType::Rbd) => "network-server-symbolic",
        _ => "drive-harddisk-symbolic",
    }
}

/// "12.0 GiB free of 100.0 GiB" (or the state when the sizes are unknown).
pub fn usage_text(pool: &PoolObject) -> String {
    if !pool.active() || pool.capacity() == 0 {
        return pool_state_label(pool.state());
    }
    gettext_f(
        "{free} free of {size}",
        &[
            ("free", &format_size(pool.available())),
            ("size", &format_size(pool.capacity())),
        ],
    )
}

impl PoolRow {
    /// A row showing `pool` (and following its changes).
    pub fn new(pool: &PoolObject) -> Self {
        let row: Self = glib::Object::new();
        row.imp().pool.replace(Some(pool.clone()));
        let handler = pool.connect_notify_local(
            None,
            glib::clone!(
                #[weak]
                row,
                move |pool, _| row.update(pool)
            ),
        );
        row.imp().handler.replace(Some(handler));
        row.update(pool);
        row
    }

    /// The pool shown.
    pub fn pool(&self) -> Option<PoolObject> {
        self.imp().pool.borrow().clone()
    }

    fn update(&self, pool: &PoolObject) {
        let imp = self.imp();
        let t = pool.pool_type();
        imp.icon.set_icon_name(Some(pool_icon(t.as_ref())));
        imp.name_label.set_label(&pool.name());
        let kind = format!(
            "{} · {}",
            t.as_ref().map(pool_type_label).unwrap_or_default(),
            pool_state_label(pool.state())
        );
        imp.kind_label.set_label(&kind);
        let fraction = if pool.capacity() > 0 {
            pool.allocation() as f64 / pool.capacity() as f64
        } else {
            0.0
        };
        imp.usage_bar.set_value(fraction.clamp(0.0, 1.0));
        imp.usage_bar.set_sensitive(pool.active());
        let usage = usage_text(pool);
        imp.usage_label.set_label(&usage);
        self.update_property(&[gtk::accessible::Property::Label(&format!(
            "{}, {kind}, {usage}",
            pool.name()
        ))]);
    }
}
