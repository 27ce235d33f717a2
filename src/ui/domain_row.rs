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

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/domain-row.ui")]
    pub struct DomainRow {
        #[template_child]
        pub state_icon: TemplateChild<gtk::Image>,
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
        #[template_child]
        pub operation_progress: TemplateChild<gtk::ProgressBar>,
        pub domain: RefCell<Option<DomainObject>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
        /// The operation shown and its handlers.
        pub operation: RefCell<Option<(OperationObject, Vec<glib::SignalHandlerId>)>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DomainRow {
        const NAME: &'static str = "VireoDomainRow";
        type Type = super::DomainRow;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            Sparkline::ensure_type();
            klass.bind_template();
            klass.set_layout_manager_type::<gtk::BoxLayout>();
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
            if let Some(layout) = self.obj().layout_manager().and_downcast::<gtk::BoxLayout>() {
                layout.set_spacing(12);
            }
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
        imp.operation_progress.set_visible(operation.is_some());
        if let Some(op) = &operation {
            let text = op.text();
            state_text = if text.is_empty() { op.title() } else { text };
            if op.fraction() >= 0.0 {
                imp.operation_progress.set_fraction(op.fraction());
            } else {
                // Each report moves the bar on: the row shows that work goes on.
                imp.operation_progress.pulse();
            }
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
        imp.state_icon
            .update_property(&[gtk::accessible::Property::Label(&state_text)]);
        self.update_accessible_label(domain);
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
        imp.memory_label
            .update_property(&[gtk::accessible::Property::Description(&memory_tooltip(
                domain,
            ))]);
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
        self.update_property(&[gtk::accessible::Property::Label(&parts.join(", "))]);
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
