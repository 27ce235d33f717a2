//! The pages' parts as one [`NewVmSpec`], its validation against the host (each
//! page shows its own problems), the summary of the last page and the suggested name.

use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::gio::prelude::ListModelExtManual;

use super::{NewVmDialog, LAST_STEP};
use crate::i18n::gettext_f;
use crate::model::new_vm::UriInfo;
use crate::model::new_vm::{
    validate, Firmware, HostLimits, InstallMethod, MediaSource, NewVmSpec, Storage,
};

impl NewVmDialog {
    /// The spec as the pages say now.
    pub(super) fn spec(&self) -> NewVmSpec {
        let imp = self.imp();
        let install = imp.method_page.install().0;
        let storage = if install.brings_own_disk() {
            Storage::None
        } else {
            imp.storage_page.storage().0
        };
        let arch = imp.method_page.arch();
        let domain_type = imp
            .host
            .borrow()
            .as_ref()
            .and_then(|h| h.caps.best_domain_type(&arch))
            .unwrap_or_else(|| "qemu".to_owned());
        let finish = &imp.finish_page;
        NewVmSpec {
            name: finish.name(),
            machine: imp.method_page.machine(),
            arch,
            domain_type,
            firmware: if finish.uefi() {
                Firmware::Uefi
            } else {
                Firmware::Bios
            },
            install,
            memory_mib: imp.resources_page.memory_mib(),
            vcpus: imp.resources_page.vcpus(),
            storage,
            network: finish.network().0,
            os: imp.os_page.profile(),
            display: finish.display_protocol(),
        }
    }

    /// What the chosen host allows for the chosen machine and OS.
    fn limits(&self) -> HostLimits {
        let imp = self.imp();
        let host = imp.host.borrow();
        let Some(h) = host.as_ref() else {
            return HostLimits::default();
        };
        let (arch, machine) = (imp.method_page.arch(), imp.method_page.machine());
        let max_vcpus = h
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .or_else(|| h.caps.max_cpus(&arch, &machine))
            .unwrap_or(0);
        let os_min_memory_mib = imp
            .os_page
            .resources(&arch)
            .and_then(|(_, r)| r.minimum.ram)
            .map(|b| b >> 20)
            .unwrap_or(0);
        let local_files = !imp
            .method_page
            .connection()
            .is_some_and(|c| UriInfo::parse(&c.uri()).is_remote());
        HostLimits {
            memory_mib: h.caps.memory_kib / 1024,
            max_vcpus,
            existing_names: h.domain_names.clone(),
            // From the host model the disk chooser shows too.
            pool_free: imp
                .method_page
                .connection()
                .map(|c| {
                    let pools = c.host().pools();
                    pools
                        .iter::<crate::model::host::PoolObject>()
                        .filter_map(Result::ok)
                        .filter(|p| p.active())
                        .map(|p| (p.name(), p.available()))
                        .collect()
                })
                .unwrap_or_default(),
            uefi_available: h.domcaps.as_ref().is_some_and(|d| d.supports_uefi()),
            local_files,
            os_min_memory_mib,
        }
    }

    /// Validates the spec and hands each page its problems.
    pub(super) fn revalidate(&self) {
        let imp = self.imp();
        let problems = if imp.host.borrow().is_some() {
            validate(&self.spec(), &self.limits())
        } else {
            Vec::new()
        };
        imp.method_page.set_problems(&problems);
        imp.resources_page.set_problems(&problems);
        imp.storage_page.set_problems(&problems);
        imp.finish_page.set_problems(&problems);
        if imp.step.get() == LAST_STEP {
            self.update_summary();
        }
        self.update_actions();
    }

    /// The last page's summary of everything chosen.
    pub(super) fn update_summary(&self) {
        let s = self.spec();
        let install = match &s.install {
            InstallMethod::LocalMedia(MediaSource::Path(p)) => {
                let pool = self.imp().method_page.upload_pool();
                if pool.is_empty() {
                    p.clone()
                } else {
                    gettext_f(
                        "{file}, uploaded into the pool “{pool}”",
                        &[("file", p), ("pool", &pool)],
                    )
                }
            }
            InstallMethod::LocalMedia(MediaSource::Volume { pool, volume }) => {
                format!("{pool}/{volume}")
            }
            InstallMethod::NetworkTree { url, .. } => url.clone(),
            InstallMethod::ImportDisk { path, .. } => path.clone(),
            InstallMethod::CloudImage { image, .. } => image.clone(),
            InstallMethod::Manual => gettext("Manual"),
        };
        let storage = match &s.storage {
            Storage::NewVolume { pool, size_gib } => gettext_f(
                "New {gib} GiB volume in pool “{pool}”",
                &[("gib", &size_gib.to_string()), ("pool", pool)],
            ),
            Storage::Existing { path } => path.clone(),
            Storage::None => gettext("None"),
        };
        let os =
            s.os.as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_else(|| gettext("Generic Operating System"));
        self.imp().finish_page.set_summary(&[
            (gettext("Operating System"), os),
            (gettext("Install From"), install),
            (
                gettext("Memory"),
                gettext_f("{mib} MiB", &[("mib", &s.memory_mib.to_string())]),
            ),
            (gettext("Processors"), s.vcpus.to_string()),
            (gettext("Storage"), storage),
            (
                gettext("Virtualization"),
                format!("{} · {} · {}", s.domain_type, s.arch, s.machine),
            ),
        ]);
    }

    /// The OS's short id ("debian11"), or "vm", made unique on the host.
    pub(super) fn suggest_name(&self) -> String {
        let imp = self.imp();
        let base = imp
            .os_page
            .chosen()
            .map(|o| o.short_id().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "vm".to_owned());
        let taken = imp
            .host
            .borrow()
            .as_ref()
            .map(|h| h.domain_names.clone())
            .unwrap_or_default();
        if !taken.contains(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|n| !taken.contains(n))
            .unwrap_or(base)
    }
}
