//! Step 3: memory and processors, bounded by the host.

use adw::prelude::*;

use super::{messages::problems_text, obj, show_error};
use crate::i18n::gettext_f;
use crate::virt::new_vm::{Field, Problem};

/// The widgets of the resources page.
pub struct ResourcesPage {
    pub page: adw::PreferencesPage,
    pub group: adw::PreferencesGroup,
    pub memory_row: adw::ActionRow,
    pub memory_spin: gtk::SpinButton,
    pub cpus_row: adw::ActionRow,
    pub cpus_spin: gtk::SpinButton,
    pub error: gtk::Label,
}

impl ResourcesPage {
    /// Builds the page from its template.
    pub fn new() -> Self {
        let b = gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/new-vm-resources.ui");
        ResourcesPage {
            page: obj(&b, "page"),
            group: obj(&b, "group"),
            memory_row: obj(&b, "memory_row"),
            memory_spin: obj(&b, "memory_spin"),
            cpus_row: obj(&b, "cpus_row"),
            cpus_spin: obj(&b, "cpus_spin"),
            error: obj(&b, "error"),
        }
    }

    /// Bounds the inputs by the host and says what the host has.
    pub fn set_host(&self, memory_mib: u64, cpus: u32, max_vcpus: u32) {
        if memory_mib > 0 {
            self.memory_spin.set_range(64.0, memory_mib as f64);
        }
        if max_vcpus > 0 {
            self.cpus_spin.set_range(1.0, max_vcpus as f64);
        }
        self.group.set_description(Some(&gettext_f(
            "The host has {mib} MiB of memory and {cpus} processors",
            &[
                ("mib", &memory_mib.to_string()),
                ("cpus", &cpus.to_string()),
            ],
        )));
    }

    /// Says what the chosen OS asks for.
    pub fn set_recommendation(&self, memory: Option<String>, cpus: Option<String>) {
        self.memory_row
            .set_subtitle(memory.as_deref().unwrap_or(""));
        self.cpus_row.set_subtitle(cpus.as_deref().unwrap_or(""));
    }

    /// Marks this page's problems.
    pub fn show_problems(&self, problems: &[(Field, Problem)]) {
        let text = problems_text(problems, |f| matches!(f, Field::Memory | Field::Vcpus));
        let mem = problems.iter().any(|(f, _)| *f == Field::Memory);
        let cpu = problems.iter().any(|(f, _)| *f == Field::Vcpus);
        for (row, bad) in [(&self.memory_row, mem), (&self.cpus_row, cpu)] {
            if bad {
                row.add_css_class("error");
            } else {
                row.remove_css_class("error");
            }
        }
        show_error(&self.error, None, text);
    }
}

impl Default for ResourcesPage {
    fn default() -> Self {
        Self::new()
    }
}
