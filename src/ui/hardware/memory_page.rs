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

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-memory-page.ui")]
    pub struct HwMemoryPage {
        #[template_child]
        pub(super) group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) current_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) max_spin: TemplateChild<gtk::SpinButton>,
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
}

impl Editor for HwMemoryPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let imp = self.imp();
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
        // A maximum above the host's that is already saved stays (the host may have
        // shrunk, or the VM came from another); a new one is refused.
        let max_changed = max_kib / 1024 != old_max / 1024;
        if limits.memory_kib > 0 && max_changed && max_kib > limits.memory_kib {
            return Err(gettext_f(
                "The maximum allocation ({asked}) is more than the host’s memory ({host}).",
                &[
                    ("asked", &format_kib(max_kib)),
                    ("host", &format_kib(limits.memory_kib)),
                ],
            ));
        }
        if current_kib > max_kib {
            return Err(gettext(
                "The current allocation cannot be above the maximum allocation.",
            ));
        }
        // Unchanged MiB values keep the document's own numbers (a KiB value that is
        // not whole MiB stays as written).
        if max_changed {
            dom.set_memory_kib(max_kib).map_err(|e| e.to_string())?;
        }
        if current_kib / 1024 != old_current / 1024 {
            dom.set_current_memory_kib(current_kib)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
