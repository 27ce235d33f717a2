//! The host page's storage: the pools in a sidebar (with their capacity bars) and the
//! chosen pool beside it, folding into one column on narrow windows.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::pool_row::PoolRow;
use super::pool_view::PoolView;
use super::{keep_a_row_selected, select_row_where, wire_leaflet, NewPoolDialog};
use crate::model::host::{HostObject, PoolObject};

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/host-storage.ui")]
    pub struct StorageView {
        #[template_child]
        pub leaflet: TemplateChild<adw::Leaflet>,
        #[template_child]
        pub pool_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub content: TemplateChild<gtk::Stack>,
        #[template_child]
        pub empty_page: TemplateChild<adw::StatusPage>,
        #[template_child]
        pub pool_view: TemplateChild<PoolView>,
        pub host: RefCell<Option<HostObject>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StorageView {
        const NAME: &'static str = "VireoStorageView";
        type Type = super::StorageView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            PoolView::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BinLayout>();
            klass.install_action("storage.new-pool", None, |view, _, _| {
                if let Some(host) = view.imp().host.borrow().as_ref() {
                    NewPoolDialog::new(view.root().and_downcast_ref::<gtk::Window>(), host)
                        .present();
                }
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for StorageView {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.pool_list.connect_row_selected(glib::clone!(
                #[weak]
                obj,
                move |_, row| obj.show_pool(row.and_then(|r| r.downcast_ref::<PoolRow>()?.pool()))
            ));
            wire_leaflet(
                &self.leaflet,
                &self.pool_list,
                &*self.content,
                &self.pool_view.back_button(),
            );
        }

        fn dispose(&self) {
            self.dispose_template();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for StorageView {}
}

glib::wrapper! {
    /// A host's storage pools and the chosen one's volumes.
    pub struct StorageView(ObjectSubclass<imp::StorageView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for StorageView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl StorageView {
    /// Shows `host`'s pools.
    pub fn set_host(&self, host: &HostObject) {
        let imp = self.imp();
        imp.host.replace(Some(host.clone()));
        let pools = host.pools();
        imp.pool_list.bind_model(Some(&pools), |item| {
            let pool = item.downcast_ref::<PoolObject>().expect("a list of pools");
            PoolRow::new(pool).upcast()
        });
        pools.connect_items_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, _, _, _| view.keep_a_pool_shown()
        ));
        self.keep_a_pool_shown();
    }

    /// The pool view (for the page's actions and tests through them).
    pub fn pool_view(&self) -> PoolView {
        self.imp().pool_view.get()
    }

    /// Shows the pool named `name`, if the host has it.
    pub fn select_pool(&self, name: &str) {
        let imp = self.imp();
        select_row_where(&imp.pool_list, &imp.leaflet, &*imp.content, |row| {
            row.downcast_ref::<PoolRow>()
                .and_then(PoolRow::pool)
                .is_some_and(|p| p.name() == name)
        });
    }

    /// With pools and none chosen (the chosen one went), the first is shown.
    fn keep_a_pool_shown(&self) {
        if !keep_a_row_selected(&self.imp().pool_list) {
            self.show_pool(None);
        }
    }

    fn show_pool(&self, pool: Option<PoolObject>) {
        let imp = self.imp();
        imp.pool_view.set_pool(pool.as_ref());
        imp.content
            .set_visible_child_name(if pool.is_some() { "pool" } else { "empty" });
    }
}
