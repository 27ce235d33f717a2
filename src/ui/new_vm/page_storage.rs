//! Step 4: the VM's disk, chosen with the [`DiskChooser`].

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::messages::problems_text;
use super::parts::StoragePart;
use super::DiskChooser;
use crate::model::new_vm::{Field, Problem};
use crate::model::ConnectionObject;

mod imp {
    use std::cell::Cell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::StoragePage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-storage.ui")]
    pub struct StoragePage {
        /// The host whose pools are offered.
        #[property(get = Self::connection, set = Self::set_connection, nullable, type = Option<ConnectionObject>)]
        pub connection: std::marker::PhantomData<Option<ConnectionObject>>,
        /// The chosen disk.
        #[property(get = Self::storage, type = StoragePart)]
        pub storage: std::marker::PhantomData<StoragePart>,
        /// Only a new volume will do.
        #[property(get = Self::new_only, set = Self::set_new_only, type = bool)]
        pub new_only: std::marker::PhantomData<bool>,
        /// No problem on this page.
        #[property(get)]
        pub valid: Cell<bool>,
        #[template_child]
        pub disk_chooser: TemplateChild<DiskChooser>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StoragePage {
        const NAME: &'static str = "VireoNewVmStoragePage";
        type Type = super::StoragePage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            DiskChooser::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl StoragePage {
        fn connection(&self) -> Option<ConnectionObject> {
            self.disk_chooser.connection()
        }

        fn set_connection(&self, connection: Option<ConnectionObject>) {
            self.disk_chooser.set_connection(connection);
        }

        fn storage(&self) -> StoragePart {
            self.disk_chooser.storage()
        }

        fn new_only(&self) -> bool {
            self.disk_chooser.new_only()
        }

        fn set_new_only(&self, new_only: bool) {
            self.disk_chooser.set_new_only(new_only);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StoragePage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.valid.set(true);
            self.disk_chooser.connect_storage_notify(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_storage()
            ));
        }
    }

    impl WidgetImpl for StoragePage {}
    impl PreferencesPageImpl for StoragePage {}
}

glib::wrapper! {
    /// The wizard's storage page.
    pub struct StoragePage(ObjectSubclass<imp::StoragePage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl StoragePage {
    /// Sizes a new disk (the chosen OS's recommendation).
    pub fn set_size_gib(&self, gib: u64) {
        self.imp().disk_chooser.set_size_gib(gib);
    }

    /// Shows this page's problems next to the disk.
    pub fn set_problems(&self, problems: &[(Field, Problem)]) {
        let imp = self.imp();
        let text = problems_text(problems, |f| f == Field::Storage);
        let valid = text.is_none();
        imp.disk_chooser.set_error(text);
        if imp.valid.replace(valid) != valid {
            self.notify_valid();
        }
    }
}
