//! The Memory page: the memory the VM has at boot and the most it may be given, in
//! MiB; more than the host has, or a current allocation above the maximum, is refused
//! before anything is written.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::DomainXml;
use crate::ui::formatting::format_kib;
use crate::ui::show_error;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-memory-page.ui")]
    pub struct HwMemoryPage {
        #[template_child]
        pub(super) group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) current_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) current_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) max_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) max_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) problem_label: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwMemoryPage {
        const NAME: &'static str = "VireoHwMemoryPage";
        type Type = super::HwMemoryPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwMemoryPage {}
    impl WidgetImpl for HwMemoryPage {}
    impl BinImpl for HwMemoryPage {}
}

glib::wrapper! {
    /// The Memory page of the hardware view.
    pub struct HwMemoryPage(ObjectSubclass<imp::HwMemoryPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for HwMemoryPage {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HwMemoryPage {
    /// Shows the host's memory under the title.
    pub(crate) fn set_limits(&self, limits: &HostLimits) {
        if limits.memory_kib > 0 {
            self.imp().group.set_description(Some(&gettext_f(
                "The host has {memory}.",
                &[("memory", &format_kib(limits.memory_kib))],
            )));
        }
    }

    /// What the page says is wrong under its fields; empty when nothing.
    pub fn problem(&self) -> String {
        let label = &self.imp().problem_label;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }

    /// A refusal of the document layer, shown under the fields.
    fn document_problem(&self, e: impl std::fmt::Display) -> String {
        let text = e.to_string();
        self.show_problem(None, Some(text.clone()));
        text
    }

    /// Marks `row` (or, for `None`, no row) as wrong with `text` under the fields.
    fn show_problem(&self, row: Option<&adw::ActionRow>, text: Option<String>) {
        let imp = self.imp();
        for r in [&*imp.current_row, &*imp.max_row] {
            r.remove_css_class("error");
        }
        show_error(&imp.problem_label, row.map(|r| r.upcast_ref()), text);
    }
}

impl Editor for HwMemoryPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let imp = self.imp();
        self.show_problem(None, None);
        let max = dom.memory_kib().unwrap_or(0);
        let current = dom.current_memory_kib().unwrap_or(max);
        imp.max_spin.set_value((max / 1024) as f64);
        imp.current_spin.set_value((current / 1024) as f64);
    }

    fn write(&self, dom: &mut DomainXml, limits: &HostLimits) -> Result<(), String> {
        let imp = self.imp();
        // What the spin buttons hold even when Apply comes before they lose the focus.
        imp.max_spin.update();
        imp.current_spin.update();
        let max_kib = imp.max_spin.value() as u64 * 1024;
        let current_kib = imp.current_spin.value() as u64 * 1024;
        let old_max = dom.memory_kib().unwrap_or(0);
        let old_current = dom.current_memory_kib().unwrap_or(old_max);
        self.show_problem(None, None);
        // A maximum above the host's that is already saved stays (the host may have
        // shrunk, or the VM came from another); a new one is refused.
        let max_changed = max_kib / 1024 != old_max / 1024;
        if limits.memory_kib > 0 && max_changed && max_kib > limits.memory_kib {
            let text = gettext_f(
                "The maximum allocation ({asked}) is more than the host’s memory ({host}).",
                &[
                    ("asked", &format_kib(max_kib)),
                    ("host", &format_kib(limits.memory_kib)),
                ],
            );
            self.show_problem(Some(&imp.max_row), Some(text.clone()));
            return Err(text);
        }
        if current_kib > max_kib {
            let text = gettext("The current allocation cannot be above the maximum allocation.");
            self.show_problem(Some(&imp.current_row), Some(text.clone()));
            return Err(text);
        }
        // Unchanged MiB values keep the document's own numbers (a KiB value that is
        // not whole MiB stays as written).
        if max_changed {
            dom.set_memory_kib(max_kib)
                .map_err(|e| self.document_problem(e))?;
        }
        if current_kib / 1024 != old_current / 1024 {
            dom.set_current_memory_kib(current_kib)
                .map_err(|e| self.document_problem(e))?;
        }
        Ok(())
    }

    fn shows_problems_on_fields(&self) -> bool {
        true
    }
}
