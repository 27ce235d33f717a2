//! One VM in the list: state, name, title, its live figures, and the long
//! operation running on it (what it does now and how far it is).

use std::sync::atomic::{AtomicUsize, Ordering};

use adw::subclass::prelude::*;
use gtk::prelude::*;
use gtk::{glib, CompositeTemplate};

use crate::i18n::gettext_f;
use crate::model::{DomainObject, DomainState, OperationObject};
use crate::ui::formatting::{format_kib, format_rate, state_icon_name, state_text};
use crate::ui::Sparkline;

mod row_layout;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/domain-row.ui")]
    pub struct DomainRow {
        #[template_child]
        pub state_icon: TemplateChild<gtk::Image>,
        /// The name, the subtitle and, while the VM runs one, its operation's bar.
        #[template_child]
        pub text_box: TemplateChild<gtk::Box>,
        #[template_child]
        pub name_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub subtitle_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub cpu_graph: TemplateChild<Sparkline>,
        #[template_child]
        pub cpu_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub disk_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub net_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub memory_label: TemplateChild<gtk::Label>,
        /// Made when the VM first runs an operation: most rows never need one, and
        /// GTK 4.8's list view builds ~200 rows at each change of the list.
        pub operation_progress: RefCell<Option<gtk::ProgressBar>>,
        pub domain: RefCell<Option<DomainObject>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// The operation shown and its handlers.
        pub operation: RefCell<Option<(OperationObject, Vec<glib::SignalHandlerId>)>>,
        /// The accessible texts last set (the row's label, the state icon's label, the
        /// memory column's description): each set is a message to screen readers, and
        /// a search binds ~200 rows, so only a change is passed on.
        pub accessible_texts: RefCell<[String; 3]>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainRow {
        const NAME: &'static str = "VireoDomainRow";
        type Type = super::DomainRow;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            Sparkline::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<row_layout::RowLayout>();
            klass.set_accessible_role(gtk::AccessibleRole::Group);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DomainRow {
        fn constructed(&self) {
            self.parent_constructed();
            BUILT.fetch_add(1, Ordering::Relaxed);
            // The columns shown are the figures Preferences collect.
            let settings = crate::settings::shared();
            for (key, widgets) in [
                (
                    "stats-cpu",
                    vec![
                        self.cpu_graph.upcast_ref::<gtk::Widget>(),
                        self.cpu_label.upcast_ref(),
                    ],
                ),
                ("stats-memory", vec![self.memory_label.upcast_ref()]),
                ("stats-disk", vec![self.disk_label.upcast_ref()]),
                ("stats-network", vec![self.net_label.upcast_ref()]),
            ] {
                for widget in widgets {
                    settings.bind(key, widget, "visible").get_only().build();
                }
            }
            // The memory tooltip is written when it is about to show, not at every
            // stats tick: setting a tooltip's text asks the X server where the pointer
            // is (a round trip per row per tick with thousands of rows).
            self.memory_label.set_has_tooltip(true);
            self.memory_label.connect_query_tooltip(glib::clone!(
                #[weak(rename_to = imp)]
                self,
                #[upgrade_or]
                false,
                move |_, _, _, _, tooltip| {
                    let domain = imp.domain.borrow().clone();
                    domain.is_some_and(|domain| {
                        tooltip.set_text(Some(&memory_tooltip(&domain)));
                        true
                    })
                }
            ));
        }

        fn dispose(&self) {
            self.obj().unbind();
            // Template children without an id are not disposed by dispose_template.
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for DomainRow {}
}

glib::wrapper! {
    pub struct DomainRow(ObjectSubclass<imp::DomainRow>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for DomainRow {
    fn default() -> Self {
        glib::Object::new()
    }
}

/// Which of `accessible_texts`.
const ROW_LABEL: usize = 0;
const STATE_ICON_LABEL: usize = 1;
const MEMORY_DESCRIPTION: usize = 2;

/// Rows built from the template since the start.
static BUILT: AtomicUsize = AtomicUsize::new(0);

impl DomainRow {
    /// How many rows were built from the template since the start: the list reuses
    /// rows, and the list bench shows how many a change of the list still builds.
    pub fn built_count() -> usize {
        BUILT.load(Ordering::Relaxed)
    }

    /// Shows `domain` and follows its changes until `unbind`. Only rows on screen are
    /// bound, so a list of thousands costs only what is visible.
    pub fn bind(&self, domain: &DomainObject) {
        self.unbind();
        let imp = self.imp();
        let mut handlers = Vec::new();
        for property in ["name", "title", "state", "state-description"] {
            handlers.push(domain.connect_notify_local(
                Some(property),
                glib::clone!(
                    #[weak(rename_to = row)]
                    self,
                    move |domain, _| row.update_identity(domain)
                ),
            ));
        }
        handlers.push(domain.connect_stats_updated(glib::clone!(
            #[weak(rename_to = row)]
            self,
            move |domain| row.update_figures(domain)
        )));
        // Memory shows the current allocation while no figures come.
        handlers.push(domain.connect_notify_local(
            Some("current-memory-kib"),
            glib::clone!(
                #[weak(rename_to = row)]
                self,
                move |domain, _| row.update_figures(domain)
            ),
        ));
        handlers.push(domain.connect_operation_notify(glib::clone!(
            #[weak(rename_to = row)]
            self,
            move |domain| row.follow_operation(domain)
        )));
        imp.handlers.replace(handlers);
        imp.domain.replace(Some(domain.clone()));
        // Shows the name and state too.
        self.follow_operation(domain);
        self.update_figures(domain);
    }

    pub fn unbind(&self) {
        let imp = self.imp();
        self.drop_operation();
        if let Some(domain) = imp.domain.take() {
            for handler in imp.handlers.take() {
                domain.disconnect(handler);
            }
        }
    }

    /// Whether the name and subtitle are plain ASCII, whose height is known (see
    /// `row_layout`).
    fn has_plain_text(&self) -> bool {
        let imp = self.imp();
        imp.name_label.label().is_ascii() && imp.subtitle_label.label().is_ascii()
    }

    /// Whether the bar of a running operation shows under the name.
    fn operation_shown(&self) -> bool {
        self.imp()
            .operation_progress
            .borrow()
            .as_ref()
            .is_some_and(|bar| bar.is_visible())
    }

    pub fn domain(&self) -> Option<DomainObject> {
        self.imp().domain.borrow().clone()
    }

    fn drop_operation(&self) {
        if let Some((op, handlers)) = self.imp().operation.take() {
            for handler in handlers {
                op.disconnect(handler);
            }
        }
    }

    /// Shows the domain's operation while it runs, following its text and fraction.
    fn follow_operation(&self, domain: &DomainObject) {
        self.drop_operation();
        if let Some(op) = domain.operation() {
            let handlers = ["text", "fraction", "running"]
                .into_iter()
                .map(|property| {
                    op.connect_notify_local(
                        Some(property),
                        glib::clone!(
                            #[weak(rename_to = row)]
                            self,
                            move |_, _| {
                                if let Some(domain) = row.domain() {
                                    row.update_identity(&domain);
                                }
                            }
                        ),
                    )
                })
                .collect();
            self.imp().operation.replace(Some((op, handlers)));
        }
        self.update_identity(domain);
    }

    fn update_identity(&self, domain: &DomainObject) {
        let imp = self.imp();
        let state = domain.state();
        imp.name_label.set_label(&domain.name());
        let title = domain.title();
        let mut state_text = state_text(domain);
        let operation = imp
            .operation
            .borrow()
            .as_ref()
            .map(|(op, _)| op.clone())
            .filter(|op| op.running());
        if let Some(op) = &operation {
            let text = op.text();
            state_text = if text.is_empty() { op.title() } else { text };
            let bar = self.operation_progress();
            bar.set_visible(true);
            if op.fraction() >= 0.0 {
                bar.set_fraction(op.fraction());
            } else {
                // Each report moves the bar on: the row shows that work goes on.
                bar.pulse();
            }
        } else if let Some(bar) = imp.operation_progress.borrow().as_ref() {
            bar.set_visible(false);
        }
        let subtitle = if title.is_empty() {
            state_text.clone()
        } else {
            format!("{title} · {state_text}")
        };
        imp.subtitle_label.set_label(&subtitle);
        imp.state_icon.set_icon_name(Some(state_icon_name(state)));
        for (class, on) in [
            ("state-running", state == DomainState::Running),
            ("state-paused", state == DomainState::Paused),
            ("state-crashed", state == DomainState::Crashed),
        ] {
            if on {
                imp.state_icon.add_css_class(class);
            } else {
                imp.state_icon.remove_css_class(class);
            }
        }
        if self.accessible_text_changed(STATE_ICON_LABEL, &state_text) {
            imp.state_icon
                .update_property(&[gtk::accessible::Property::Label(&state_text)]);
        }
        self.update_accessible_label(domain);
    }

    /// The bar under the name that shows how far the VM's operation is.
    fn operation_progress(&self) -> gtk::ProgressBar {
        let imp = self.imp();
        if let Some(bar) = imp.operation_progress.borrow().as_ref() {
            return bar.clone();
        }
        let bar = gtk::ProgressBar::builder()
            .margin_top(3)
            .pulse_step(0.1)
            .build();
        imp.text_box.append(&bar);
        imp.operation_progress.replace(Some(bar.clone()));
        bar
    }

    fn update_figures(&self, domain: &DomainObject) {
        let imp = self.imp();
        let active = domain.state().is_active();
        let cpu = if active {
            format!("{:.0} %", domain.cpu_percent())
        } else {
            String::new()
        };
        imp.cpu_label.set_label(&cpu);
        imp.cpu_graph.set_values(
            if active {
                domain.cpu_history()
            } else {
                Vec::new()
            },
            &gettext_f("CPU usage {percent}", &[("percent", &cpu)]),
        );
        // In use while the guest reports it, else what it is given now (not the most
        // it may be given, which the tooltip adds).
        let memory = if active && domain.memory_used_kib() > 0 {
            format_kib(domain.memory_used_kib())
        } else {
            format_kib(domain.current_memory_kib())
        };
        imp.memory_label.set_label(&memory);
        let description = memory_tooltip(domain);
        if self.accessible_text_changed(MEMORY_DESCRIPTION, &description) {
            imp.memory_label
                .update_property(&[gtk::accessible::Property::Description(&description)]);
        }
        let (disk, net) = if active {
            (
                format!(
                    "↓{} ↑{}",
                    format_rate(domain.disk_read_bps()),
                    format_rate(domain.disk_write_bps())
                ),
                format!(
                    "↓{} ↑{}",
                    format_rate(domain.net_rx_bps()),
                    format_rate(domain.net_tx_bps())
                ),
            )
        } else {
            (String::new(), String::new())
        };
        imp.disk_label.set_label(&disk);
        imp.net_label.set_label(&net);
        self.update_accessible_label(domain);
    }

    /// A screen reader reads a row as "name, state, CPU figure".
    fn update_accessible_label(&self, domain: &DomainObject) {
        let imp = self.imp();
        let mut parts = vec![domain.name().to_string(), state_text(domain)];
        let cpu = imp.cpu_label.label();
        if !cpu.is_empty() {
            parts.push(gettext_f("CPU {percent}", &[("percent", &cpu)]));
        }
        let label = parts.join(", ");
        if self.accessible_text_changed(ROW_LABEL, &label) {
            self.update_property(&[gtk::accessible::Property::Label(&label)]);
        }
    }

    /// Whether `text` differs from the accessible text `which` last set; remembers it.
    fn accessible_text_changed(&self, which: usize, text: &str) -> bool {
        let mut texts = self.imp().accessible_texts.borrow_mut();
        if texts[which] == text {
            return false;
        }
        texts[which] = text.to_owned();
        true
    }
}

/// The memory column's tooltip: what the guest uses of what it has, or what it has
/// and the most it may be given.
fn memory_tooltip(domain: &DomainObject) -> String {
    let current = format_kib(domain.current_memory_kib());
    if domain.state().is_active() && domain.memory_used_kib() > 0 {
        gettext_f(
            "Memory in use: {used} of {current}",
            &[
                ("used", &format_kib(domain.memory_used_kib())),
                ("current", &current),
            ],
        )
    } else {
        gettext_f(
            "Memory: {current}, at most {max}",
            &[
                ("current", &current),
                ("max", &format_kib(domain.max_memory_kib())),
            ],
        )
    }
}
