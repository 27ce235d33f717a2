//! The host page's overview: the host's facts and its CPU and memory load over time.
//! The load is sampled only while this view is on screen (mapped).

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::load_graph::LoadGraph;
use crate::i18n::gettext_f;
use crate::model::host::{HostObject, LoadWatch};
use crate::ui::formatting::format_kib;

mod imp {
    use std::cell::RefCell;

    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/host-overview.ui")]
    pub struct HostOverview {
        #[template_child]
        pub cpu_value: TemplateChild<gtk::Label>,
        #[template_child]
        pub cpu_graph: TemplateChild<LoadGraph>,
        #[template_child]
        pub memory_value: TemplateChild<gtk::Label>,
        #[template_child]
        pub memory_graph: TemplateChild<LoadGraph>,
        #[template_child]
        pub hostname_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub uri_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub hypervisor_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub libvirt_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub cpu_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub cpus_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub memory_row: TemplateChild<adw::ActionRow>,
        pub host: RefCell<Option<HostObject>>,
        pub handlers: RefCell<Vec<glib::SignalHandlerId>>,
        pub watch: RefCell<Option<LoadWatch>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostOverview {
        const NAME: &'static str = "VireoHostOverview";
        type Type = super::HostOverview;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            LoadGraph::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HostOverview {
        fn dispose(&self) {
            self.watch.take();
            if let Some(host) = self.host.take() {
                for h in self.handlers.take() {
                    host.disconnect(h);
                }
            }
        }
    }

    impl WidgetImpl for HostOverview {
        fn map(&self) {
            self.parent_map();
            // Sample the host's load only while the graphs can be seen.
            if let Some(host) = self.host.borrow().as_ref() {
                self.watch.replace(Some(host.watch_load()));
            }
        }

        fn unmap(&self) {
            self.watch.take();
            self.parent_unmap();
        }
    }

    impl BinImpl for HostOverview {}
}

glib::wrapper! {
    /// A host's facts and load.
    pub struct HostOverview(ObjectSubclass<imp::HostOverview>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for HostOverview {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HostOverview {
    /// Shows `host`.
    pub fn set_host(&self, host: &HostObject) {
        let imp = self.imp();
        let mut handlers = Vec::new();
        handlers.push(host.connect_notify_local(
            None,
            glib::clone!(
                #[weak(rename_to = view)]
                self,
                move |host, pspec| {
                    if !matches!(pspec.name(), "cpu-percent" | "memory-used-kib") {
                        view.show_facts(host);
                    }
                }
            ),
        ));
        handlers.push(host.connect_load_updated(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |host| view.show_load(host)
        )));
        imp.handlers.replace(handlers);
        imp.host.replace(Some(host.clone()));
        if self.is_mapped() {
            imp.watch.replace(Some(host.watch_load()));
        }
        self.show_facts(host);
        self.show_load(host);
    }

    fn show_facts(&self, host: &HostObject) {
        let imp = self.imp();
        let unknown = gettext("Unknown");
        let or_unknown = |s: String| if s.is_empty() { unknown.clone() } else { s };
        imp.hostname_row.set_subtitle(&or_unknown(host.hostname()));
        imp.uri_row.set_subtitle(&or_unknown(host.uri()));
        let hypervisor = match host.hypervisor_version() {
            Some(v) => format!("{} {v}", host.driver()),
            None => host.driver(),
        };
        imp.hypervisor_row.set_subtitle(&or_unknown(hypervisor));
        imp.libvirt_row
            .set_subtitle(&or_unknown(host.libvirt_version()));
        let cpu = match host.cpu_vendor() {
            Some(vendor) => format!("{vendor} {} ({})", host.cpu_model(), host.arch()),
            None => format!("{} ({})", host.cpu_model(), host.arch()),
        };
        imp.cpu_row.set_subtitle(&cpu);
        imp.cpus_row.set_subtitle(&if host.mhz() > 0 {
            gettext_f(
                "{n} at {mhz} MHz",
                &[
                    ("n", &host.cpus().to_string()),
                    ("mhz", &host.mhz().to_string()),
                ],
            )
        } else {
            host.cpus().to_string()
        });
        imp.memory_row.set_subtitle(&format_kib(host.memory_kib()));
        imp.memory_graph
            .set_maximum(host.memory_total_kib().max(1) as f64);
    }

    fn show_load(&self, host: &HostObject) {
        let imp = self.imp();
        let cpu = host.cpu_percent();
        let cpu_text = if cpu < 0.0 && host.samples_taken() >= 2 {
            gettext("Not reported by this host")
        } else if cpu < 0.0 {
            gettext("Measuring…")
        } else {
            format!("{cpu:.0} %")
        };
        imp.cpu_value.set_label(&cpu_text);
        imp.cpu_graph.set_values(
            host.cpu_history(),
            &gettext_f("Host CPU usage: {value}", &[("value", &cpu_text)]),
        );
        let memory_text = if host.memory_used_kib() == 0 && host.samples_taken() >= 1 {
            gettext("Not reported by this host")
        } else if host.memory_used_kib() == 0 {
            gettext("Measuring…")
        } else {
            gettext_f(
                "{used} of {total}",
                &[
                    ("used", &format_kib(host.memory_used_kib())),
                    ("total", &format_kib(host.memory_total_kib())),
                ],
            )
        };
        imp.memory_value.set_label(&memory_text);
        imp.memory_graph
            .set_maximum(host.memory_total_kib().max(1) as f64);
        imp.memory_graph.set_values(
            host.memory_history(),
            &gettext_f("Host memory in use: {value}", &[("value", &memory_text)]),
        );
    }
}
