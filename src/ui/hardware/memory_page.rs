//! The Memory page: the memory the VM has at boot and the most it may be given, in
//! MiB; more than the host has, or a current allocation above the maximum, is refused
//! before anything is written. On a running VM the current allocation changes now,
//! through the memory balloon (and for the next starts), and the page shows what the
//! guest has now; the maximum changes at the next start. A VM without a balloon says
//! so on the field.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use std::cell::{Cell, RefCell};

use super::{Editor, HardwareView, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{DomainXml, Memballoon};
use crate::model::DomainObject;
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
        /// The VM followed for what its guest has now, and the handlers on it.
        pub(super) followed: RefCell<Option<(DomainObject, Vec<glib::SignalHandlerId>)>>,
        /// Whether the VM has a memory balloon (libvirt gives one unless told `none`).
        pub(super) balloon: Cell<bool>,
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

    impl ObjectImpl for HwMemoryPage {
        fn dispose(&self) {
            if let Some((domain, handlers)) = self.followed.take() {
                for h in handlers {
                    domain.disconnect(h);
                }
            }
        }
    }

    impl WidgetImpl for HwMemoryPage {
        fn map(&self) {
            self.parent_map();
            self.obj().follow_domain();
        }
    }
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

    /// Follows the page's VM: while it runs, the current allocation's row says what the
    /// guest has now (libvirt's figure, which the balloon moves).
    fn follow_domain(&self) {
        if self.imp().followed.borrow().is_some() {
            return;
        }
        let Some(domain) = self
            .ancestor(HardwareView::static_type())
            .and_downcast::<HardwareView>()
            .and_then(|view| view.domain())
        else {
            return;
        };
        let handlers = ["current-memory-kib", "state"]
            .into_iter()
            .map(|property| {
                domain.connect_notify_local(
                    Some(property),
                    glib::clone!(
                        #[weak(rename_to = page)]
                        self,
                        move |d, _| page.show_guest_memory(d)
                    ),
                )
            })
            .collect();
        self.show_guest_memory(&domain);
        self.imp().followed.replace(Some((domain, handlers)));
    }

    fn show_guest_memory(&self, domain: &DomainObject) {
        let text = match (domain.state().is_active(), self.imp().balloon.get()) {
            (false, _) => String::new(),
            (true, true) => gettext_f(
                "The guest has {memory} now; a change applies at once",
                &[("memory", &format_kib(domain.current_memory_kib()))],
            ),
            (true, false) => gettext_f(
                "The guest has {memory}. Without a memory balloon, a change waits for the next start",
                &[("memory", &format_kib(domain.current_memory_kib()))],
            ),
        };
        let imp = self.imp();
        imp.current_row.set_subtitle(&text);
        imp.max_row.set_subtitle(&if domain.state().is_active() {
            gettext("A change waits for the next start")
        } else {
            String::new()
        });
    }

    /// What the row of the current allocation says (what the guest has now).
    pub fn guest_memory_text(&self) -> String {
        self.imp()
            .current_row
            .subtitle()
            .unwrap_or_default()
            .to_string()
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
        imp.balloon.set(has_balloon(dom));
        if let Some((domain, _)) = imp.followed.borrow().as_ref() {
            self.show_guest_memory(domain);
        }
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

    fn live_memory(&self, before: &DomainXml, after: &DomainXml) -> Option<u64> {
        let current = after.current_memory_kib()?;
        if current == before.current_memory_kib()? || after.memory_kib() != before.memory_kib() {
            return None;
        }
        // Without a balloon the change waits for the next start (the row says so).
        if !has_balloon(before) {
            return None;
        }
        Some(current)
    }
}

/// True unless the VM's balloon is `<memballoon model='none'/>`.
fn has_balloon(dom: &DomainXml) -> bool {
    !dom.devices_of::<Memballoon>()
        .iter()
        .any(|(_, b)| b.model.as_deref() == Some("none"))
}
