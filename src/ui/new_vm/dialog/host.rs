//! Reading the chosen host through the model (its facts, the domain capabilities of
//! the chosen machine, the names in use) and the chosen OS's defaults.

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use super::NewVmDialog;
use crate::i18n::gettext_f;
use crate::model::new_vm::HostInfo;

impl NewVmDialog {
    /// Reads the chosen host's facts; its pages follow the new host.
    pub(super) fn load_host(&self) {
        let imp = self.imp();
        let generation = imp.host_generation.get() + 1;
        imp.host_generation.set(generation);
        imp.host.replace(None);
        let connection = imp.method_page.connection();
        imp.storage_page.set_connection(connection.clone());
        imp.finish_page.set_connection(connection.clone());
        self.update_actions();
        let Some(connection) = connection else {
            self.show_banner(Some(gettext(
                "No connection is open: connect to a host before creating a virtual machine",
            )));
            return;
        };
        self.show_banner(None);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let read = connection.new_vm_host().await;
                if dialog.imp().host_generation.get() != generation {
                    return;
                }
                match read {
                    Ok(host) => dialog.fill_host(host),
                    Err(e) => dialog.show_banner(Some(gettext_f(
                        "The host’s capabilities could not be read: {reason}",
                        &[("reason", &e.to_string())],
                    ))),
                }
            }
        ));
    }

    fn fill_host(&self, host: HostInfo) {
        let imp = self.imp();
        let max_vcpus = host
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .unwrap_or(0)
            .max(host.caps.cpus);
        imp.resources_page
            .set_host(host.caps.memory_kib / 1024, host.caps.cpus, max_vcpus);
        imp.resources_page.set_vcpus(2.min(host.caps.cpus.max(1)));
        imp.finish_page
            .set_uefi_available(host.domcaps.as_ref().is_some_and(|d| d.supports_uefi()));
        imp.finish_page
            .set_spice_available(host.domcaps.as_ref().is_some_and(has_spice));
        // Known before the page's choices notify: they read it.
        imp.host.replace(Some(host.clone()));
        imp.method_page.set_host(Some(&host));
        self.apply_os_defaults();
        self.revalidate();
    }

    /// Re-reads the domain capabilities (UEFI, vCPU limit) for the chosen
    /// architecture and machine type.
    pub(super) fn reload_domcaps(&self) {
        let imp = self.imp();
        let (arch, machine) = (imp.method_page.arch(), imp.method_page.machine());
        let virttype = imp
            .host
            .borrow()
            .as_ref()
            .and_then(|h| h.caps.best_domain_type(&arch));
        let (Some(connection), Some(virttype)) = (imp.method_page.connection(), virttype) else {
            return;
        };
        if machine.is_empty() {
            return;
        }
        let generation = imp.host_generation.get();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let read = connection
                    .domain_capabilities(&virttype, &arch, &machine)
                    .await;
                let imp = dialog.imp();
                let current = (imp.method_page.arch(), imp.method_page.machine());
                if imp.host_generation.get() != generation || current != (arch, machine) {
                    return;
                }
                match read {
                    Ok(domcaps) => {
                        imp.finish_page.set_uefi_available(
                            domcaps.as_ref().is_some_and(|d| d.supports_uefi()),
                        );
                        imp.finish_page
                            .set_spice_available(domcaps.as_ref().is_some_and(has_spice));
                        if let Some(h) = imp.host.borrow_mut().as_mut() {
                            h.domcaps = domcaps;
                        }
                        dialog.revalidate();
                    }
                    Err(e) => tracing::warn!(error = %e, "no domain capabilities"),
                }
            }
        ));
    }

    /// Re-reads the names in use (after another client took the one chosen).
    pub(super) fn reload_names(&self) {
        let imp = self.imp();
        let Some(connection) = imp.method_page.connection() else {
            return;
        };
        let generation = imp.host_generation.get();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let read = connection.domain_names().await;
                let imp = dialog.imp();
                if imp.host_generation.get() != generation {
                    return;
                }
                if let (Ok(names), Some(h)) = (read, imp.host.borrow_mut().as_mut()) {
                    h.domain_names = names;
                }
                dialog.revalidate();
            }
        ));
    }

    /// Memory, processors and disk from the chosen OS's recommendations, within the
    /// host.
    pub(super) fn apply_os_defaults(&self) {
        let imp = self.imp();
        let arch = imp.method_page.arch();
        let Some((os, r)) = imp.os_page.resources(&arch) else {
            imp.resources_page.set_recommendation(None, None);
            return;
        };
        let mib = |b: u64| b >> 20;
        let (host_mib, host_cpus) = imp
            .host
            .borrow()
            .as_ref()
            .map(|h| (h.caps.memory_kib / 1024, h.caps.cpus))
            .unwrap_or((0, 0));
        let ram = r.recommended.ram.or(r.minimum.ram).map(mib).unwrap_or(2048);
        // At most half the host, unless the OS needs more (then at most all of it).
        let ram = if host_mib > 0 {
            ram.min(host_mib / 2).max(ram.min(host_mib))
        } else {
            ram
        };
        imp.resources_page.set_memory_mib(ram);
        // Two processors unless the OS asks for more, never more than the host has.
        let want = r
            .recommended
            .n_cpus
            .or(r.minimum.n_cpus)
            .unwrap_or(1)
            .max(2);
        imp.resources_page.set_vcpus(if host_cpus > 0 {
            want.min(host_cpus)
        } else {
            want
        });
        if let Some(bytes) = r.recommended.storage.or(r.minimum.storage) {
            imp.storage_page.set_size_gib((bytes >> 30).max(1));
        }
        imp.resources_page.set_recommendation(
            r.recommended.ram.map(|b| {
                gettext_f(
                    "{os} recommends {mib} MiB",
                    &[("os", &os), ("mib", &mib(b).to_string())],
                )
            }),
            r.minimum.n_cpus.map(|n| {
                gettext_f(
                    "{os} needs at least {n}",
                    &[("os", &os), ("n", &n.to_string())],
                )
            }),
        );
    }
}

/// Whether the host's QEMU offers SPICE displays for the chosen machine.
fn has_spice(domcaps: &crate::model::new_vm::DomainCapabilities) -> bool {
    domcaps.graphics_types.iter().any(|t| t == "spice")
}
