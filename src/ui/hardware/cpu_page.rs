//! The CPUs page: the number of virtual CPUs (a topology that described the old number
//! is fitted to the new one) and the CPU the guest sees: the hypervisor's default, a
//! copy of the host's (host-passthrough), one like it (host-model) or a named model.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::{glib, CompositeTemplate};

use super::{Editor, HostLimits};
use crate::i18n::gettext_f;
use crate::model::details::{Cpu, DomainXml};

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
        pub(super) topology_row: TemplateChild<adw::ActionRow>,
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

impl Editor for HwCpuPage {
    fn widget(&self) -> gtk::Widget {
        self.clone().upcast()
    }

    fn load(&self, dom: &DomainXml) {
        let imp = self.imp();
        imp.count_spin
            .set_value(dom.vcpus().map_or(1, |v| v.max) as f64);
        let cpu = dom.cpu();
        match cpu.topology {
            Some(t) => {
                imp.topology_row.set_subtitle(&gettext_f(
                    "{sockets} sockets × {cores} cores × {threads} threads",
                    &[
                        ("sockets", &t.sockets.to_string()),
                        ("cores", &t.cores.to_string()),
                        ("threads", &t.threads.to_string()),
                    ],
                ));
                imp.topology_row.set_visible(true);
            }
            None => imp.topology_row.set_visible(false),
        }
        let mode = mode_index(&cpu);
        imp.mode_row.set_selected(mode);
        imp.model_row.set_text(cpu.model.as_deref().unwrap_or(""));
        imp.model_row.set_visible(mode == 3);
    }

    fn write(&self, dom: &mut DomainXml, _limits: &HostLimits) -> Result<(), String> {
        let imp = self.imp();
        imp.count_spin.update();
        let count = imp.count_spin.value() as u32;
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
