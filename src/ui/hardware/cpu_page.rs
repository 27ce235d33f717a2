//! The CPUs page: the number of virtual CPUs, their topology (sockets × cores × threads,
//! which must make that number: an inline error says so while it does not; without a
//! manual topology, one that described the old number is fitted to the new one) and
//! the CPU the guest sees: the hypervisor's default, a
//! copy of the host's (host-passthrough), one like it (host-model) or a named model.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{Cpu, DomainXml, Topology};

/// The CPU modes in the order of the model row's items.
const MODES: [Option<&str>; 4] = [
    None,
    Some("host-passthrough"),
    Some("host-model"),
    Some("custom"),
];

/// The model row's item for `cpu`.
fn mode_index(cpu: &Cpu) -> u32 {
    match (cpu.mode.as_deref(), cpu.model.is_some()) {
        (None, false) => 0,
        (None, true) | (Some("custom"), _) => 3,
        (Some("host-passthrough") | Some("maximum"), _) => 1,
        (Some("host-model"), _) => 2,
        (Some(_), _) => 0,
    }
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/vireo/Vireo/ui/hw-cpu-page.ui")]
    pub struct HwCpuPage {
        #[template_child]
        pub(super) count_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) topology_row: TemplateChild<adw::ExpanderRow>,
        #[template_child]
        pub(super) sockets_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) sockets_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) cores_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) cores_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) threads_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) threads_spin: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub(super) topology_error: TemplateChild<gtk::Label>,
        /// The `dies` of the topology read (kept as it was: the page does not edit it).
        pub(super) dies: std::cell::Cell<Option<u32>>,
        #[template_child]
        pub(super) mode_row: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub(super) model_row: TemplateChild<adw::EntryRow>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HwCpuPage {
        const NAME: &'static str = "VireoHwCpuPage";
        type Type = super::HwCpuPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for HwCpuPage {
        fn constructed(&self) {
            self.parent_constructed();
            // The model's name matters for named models only.
            let model_row = self.model_row.get();
            self.mode_row.connect_selected_notify(move |row| {
                model_row.set_visible(row.selected() == 3);
            });
            // The topology is checked as the numbers change.
            let obj = self.obj();
            for spin in [
                &*self.count_spin,
                &*self.sockets_spin,
                &*self.cores_spin,
                &*self.threads_spin,
            ] {
                spin.connect_value_changed(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.check_topology()
                ));
            }
            self.topology_row
                .connect_enable_expansion_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.check_topology()
                ));
        }
    }
    impl WidgetImpl for HwCpuPage {}
    impl BinImpl for HwCpuPage {}
}

glib::wrapper! {
    /// The CPUs page of the hardware view.
    pub struct HwCpuPage(ObjectSubclass<imp::HwCpuPage>)
        @extends adw::Bin, gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for HwCpuPage {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl HwCpuPage {
    /// The topology asked for (`None`: no manual topology).
    fn topology(&self) -> Option<Topology> {
        let imp = self.imp();
        if !imp.topology_row.enables_expansion() {
            return None;
        }
        let n = |spin: &gtk::SpinButton| {
            spin.update();
            spin.value() as u32
        };
        Some(Topology {
            sockets: n(&imp.sockets_spin),
            dies: imp.dies.get(),
            cores: n(&imp.cores_spin),
            threads: n(&imp.threads_spin),
        })
    }

    /// Why the topology asked for does not fit the number of vCPUs (`None`: it does,
    /// or there is none).
    fn topology_problem(&self) -> Option<String> {
        let t = self.topology()?;
        let count = self.imp().count_spin.value() as u32;
        (t.total() != count).then(|| {
            gettext_f(
                "{sockets} × {cores} × {threads} makes {total} virtual CPUs, not {count}: change the topology or the number of virtual CPUs.",
                &[
                    ("sockets", &t.sockets.to_string()),
                    ("cores", &(t.dies.unwrap_or(1) * t.cores).to_string()),
                    ("threads", &t.threads.to_string()),
                    ("total", &t.total().to_string()),
                    ("count", &count.to_string()),
                ],
            )
        })
    }

    /// Shows the topology's problem under it and marks its rows (clears both when
    /// it fits).
    fn check_topology(&self) {
        let imp = self.imp();
        let problem = self.topology_problem();
        imp.topology_error
            .set_label(problem.as_deref().unwrap_or_default());
        imp.topology_error.set_visible(problem.is_some());
        for row in [&imp.sockets_row, &imp.cores_row, &imp.threads_row] {
            if problem.is_some() {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
    }

    /// The error under the topology (empty: none), as a person reads it.
    pub fn topology_error(&self) -> String {
        let label = &self.imp().topology_error;
        if label.is_visible() {
            label.label().to_string()
        } else {
            String::new()
        }
    }
}

impl Editor for HwCpuPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let imp = self.imp();
        imp.count_spin
            .set_value(dom.vcpus().map_or(1, |v| v.max) as f64);
        let cpu = dom.cpu();
        let t = cpu.topology.unwrap_or(Topology {
            sockets: dom.vcpus().map_or(1, |v| v.max),
            dies: None,
            cores: 1,
            threads: 1,
        });
        imp.dies.set(t.dies);
        imp.sockets_spin.set_value(t.sockets as f64);
        imp.cores_spin.set_value(t.cores as f64);
        imp.threads_spin.set_value(t.threads as f64);
        imp.topology_row
            .set_enable_expansion(cpu.topology.is_some());
        imp.topology_row.set_expanded(cpu.topology.is_some());
        self.check_topology();
        let mode = mode_index(&cpu);
        imp.mode_row.set_selected(mode);
        imp.model_row.set_text(cpu.model.as_deref().unwrap_or(""));
        imp.model_row.set_visible(mode == 3);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let imp = self.imp();
        imp.count_spin.update();
        let count = imp.count_spin.value() as u32;
        if let Some(problem) = self.topology_problem() {
            return Err(problem);
        }
        // The topology first: the count then fits it (without one, set_vcpus fits
        // the old topology to the new count where it can).
        let topology = self.topology();
        if dom.cpu().topology != topology {
            dom.set_topology(topology.as_ref())
                .map_err(|e| e.to_string())?;
        }
        if dom.vcpus().map(|v| v.max) != Some(count) {
            dom.set_vcpus(count, None).map_err(|e| e.to_string())?;
        }
        let old = dom.cpu();
        let mut cpu = old.clone();
        let selected = imp.mode_row.selected() as usize;
        let old_selected = mode_index(&old) as usize;
        let name = imp.model_row.text().trim().to_owned();
        if selected == old_selected && (selected != 3 || Some(&name) == old.model.as_ref()) {
            return Ok(());
        }
        match selected {
            0 => {
                cpu.mode = None;
                cpu.model = None;
                cpu.match_ = None;
                cpu.check = None;
            }
            1 | 2 => {
                cpu.mode = MODES[selected].map(str::to_owned);
                // These modes take no named model (libvirt ignores or refuses it).
                cpu.model = None;
                cpu.match_ = None;
            }
            _ => {
                if name.is_empty() {
                    return Err(gettext(
                        "A named CPU model needs its name (for example “Skylake-Client”).",
                    ));
                }
                cpu.mode = Some("custom".into());
                cpu.model = Some(name);
            }
        }
        dom.set_cpu(&cpu).map_err(|e| e.to_string())
    }
}
