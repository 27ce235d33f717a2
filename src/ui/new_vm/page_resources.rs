//! Step 3: memory and processors, bounded by the host, with the chosen OS's
//! recommendations beside them.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

use super::messages::problems_text;
use super::show_error;
use crate::i18n::gettext_f;
use crate::model::new_vm::{Field, Problem};
use crate::ui::formatting::format_size;

mod imp {
    use std::cell::Cell;

    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[properties(wrapper_type = super::ResourcesPage)]
    #[template(resource = "/io/github/vireo/Vireo/ui/new-vm-resources.ui")]
    pub struct ResourcesPage {
        /// Memory, MiB.
        #[property(get = Self::memory_mib, set = Self::set_memory_mib, type = u64)]
        pub memory_mib: std::marker::PhantomData<u64>,
        /// Virtual processors.
        #[property(get = Self::vcpus, set = Self::set_vcpus, type = u32)]
        pub vcpus: std::marker::PhantomData<u32>,
        /// No problem on this page.
        #[property(get)]
        pub valid: Cell<bool>,
        #[template_child]
        pub group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub memory_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub memory_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub cpus_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub cpus_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub error: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ResourcesPage {
        const NAME: &'static str = "VireoNewVmResourcesPage";
        type Type = super::ResourcesPage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ResourcesPage {
        fn memory_mib(&self) -> u64 {
            self.memory_spin.value() as u64
        }

        fn set_memory_mib(&self, mib: u64) {
            self.memory_spin.set_value(mib as f64);
        }

        fn vcpus(&self) -> u32 {
            self.cpus_spin.value() as u32
        }

        fn set_vcpus(&self, n: u32) {
            self.cpus_spin.set_value(f64::from(n));
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ResourcesPage {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.valid.set(true);
            self.memory_spin.connect_value_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_memory_mib()
            ));
            self.cpus_spin.connect_value_changed(glib::clone!(
                #[weak]
                obj,
                move |_| obj.notify_vcpus()
            ));
        }
    }

    impl WidgetImpl for ResourcesPage {}
    impl PreferencesPageImpl for ResourcesPage {}
}

glib::wrapper! {
    /// The wizard's memory and processors page.
    pub struct ResourcesPage(ObjectSubclass<imp::ResourcesPage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl ResourcesPage {
    /// Bounds the inputs by the host and says what the host has.
    pub fn set_host(&self, memory_mib: u64, cpus: u32, max_vcpus: u32) {
        let imp = self.imp();
        if memory_mib > 0 {
            imp.memory_spin.set_range(64.0, memory_mib as f64);
        }
        if max_vcpus > 0 {
            imp.cpus_spin.set_range(1.0, f64::from(max_vcpus));
        }
        imp.group.set_description(Some(&gettext_f(
            "The host has {size} of memory and {cpus} processors",
            &[
                ("size", &format_size(memory_mib.saturating_mul(1 << 20))),
                ("cpus", &cpus.to_string()),
            ],
        )));
    }

    /// Says what the chosen OS asks for.
    pub fn set_recommendation(&self, memory: Option<String>, cpus: Option<String>) {
        let imp = self.imp();
        imp.memory_row.set_subtitle(memory.as_deref().unwrap_or(""));
        imp.cpus_row.set_subtitle(cpus.as_deref().unwrap_or(""));
    }

    /// Shows this page's problems next to their fields.
    pub fn set_problems(&self, problems: &[(Field, Problem)]) {
        let imp = self.imp();
        let mine = |f: Field| matches!(f, Field::Memory | Field::Vcpus);
        let text = problems_text(problems, mine);
        for (row, field) in [
            (&*imp.memory_row, Field::Memory),
            (&*imp.cpus_row, Field::Vcpus),
        ] {
            if problems.iter().any(|(f, _)| *f == field) {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        let valid = text.is_none();
        show_error(&imp.error, None, text);
        if imp.valid.replace(valid) != valid {
            self.notify_valid();
        }
    }
}
