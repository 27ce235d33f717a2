//! From the widgets to a [`NewVmSpec`], its validation against the host, and the
//! summary of the last page.

use adw::prelude::*;
use gettextrs::gettext;

use super::{NewVmDialog, STORAGE_STEP};
use crate::i18n::gettext_f;
use crate::ui::new_vm::MethodKind;
use crate::virt::new_vm::tree;
use crate::virt::new_vm::{
    validate, CloudInit, DiskFormat, Field, HostLimits, InstallMethod, MediaSource, NewVmSpec,
    OsProfile, Problem, Storage,
};

impl NewVmDialog {
    /// The spec as the widgets say now.
    pub fn spec(&self) -> NewVmSpec {
        let i = &self.inner;
        let m = &i.method;
        let image = m.image_row.text().trim().to_owned();
        let fmt = || DiskFormat::sniff(std::path::Path::new(&image)).unwrap_or(DiskFormat::Raw);
        let install = match m.kind() {
            MethodKind::Media => match m.iso_volume() {
                Some((pool, volume)) => {
                    InstallMethod::LocalMedia(MediaSource::Volume { pool, volume })
                }
                None => {
                    InstallMethod::LocalMedia(MediaSource::Path(m.iso_row.text().trim().to_owned()))
                }
            },
            MethodKind::Url => InstallMethod::NetworkTree {
                url: m.url_row.text().trim().to_owned(),
                // The creation step fetches the files and puts their volumes' paths here.
                boot: crate::virt::new_vm::TreeBoot {
                    kernel: tree::KERNEL_PLACEHOLDER.to_owned(),
                    initrd: tree::INITRD_PLACEHOLDER.to_owned(),
                    args: m.kernel_args_row.text().trim().to_owned(),
                },
            },
            MethodKind::Import => InstallMethod::ImportDisk {
                format: if self.uri().is_remote() {
                    DiskFormat::Raw
                } else {
                    fmt()
                },
                path: image.clone(),
            },
            MethodKind::Cloud => InstallMethod::CloudImage {
                format: if self.uri().is_remote() {
                    DiskFormat::Qcow2
                } else {
                    fmt()
                },
                image: image.clone(),
                cloud_init: CloudInit {
                    user: m.cloud_user_row.text().trim().to_owned(),
                    password: Some(m.cloud_password_row.text().to_string())
                        .filter(|p| !p.is_empty()),
                    ssh_key: Some(m.cloud_key_row.text().trim().to_owned())
                        .filter(|k| !k.is_empty()),
                },
            },
            MethodKind::Manual => InstallMethod::Manual,
        };
        let storage = if install.brings_own_disk() {
            Storage::None
        } else {
            i.storage.storage()
        };
        let host = i.host.borrow();
        let arch = m.arch();
        let domain_type = host
            .as_ref()
            .and_then(|h| h.caps.best_domain_type(&arch))
            .unwrap_or_else(|| "qemu".to_owned());
        let os = match (i.os.db(), i.os.chosen_os()) {
            (Some(db), Some(os)) => Some(OsProfile::from_db(&db, &os)),
            _ => None,
        };
        NewVmSpec {
            name: i.finish.name_row.text().trim().to_owned(),
            arch,
            machine: m.machine(),
            domain_type,
            firmware: i.finish.firmware(),
            install,
            memory_mib: i.res.memory_spin.value() as u64,
            vcpus: i.res.cpus_spin.value() as u32,
            storage,
            network: i.finish.network(),
            os,
        }
    }

    pub(super) fn limits(&self) -> HostLimits {
        let i = &self.inner;
        let host = i.host.borrow();
        let Some(h) = host.as_ref() else {
            return HostLimits::default();
        };
        let arch = i.method.arch();
        let machine = i.method.machine();
        let max_vcpus = h
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .or_else(|| h.caps.max_cpus(&arch, &machine))
            .unwrap_or(0);
        let min_mem = match (i.os.db(), i.os.chosen_os()) {
            (Some(db), Some(os)) => db
                .resources(&os, &arch)
                .minimum
                .ram
                .map(|b| b >> 20)
                .unwrap_or(0),
            _ => 0,
        };
        HostLimits {
            memory_mib: h.caps.memory_kib / 1024,
            max_vcpus,
            existing_names: h.domain_names.clone(),
            pool_free: h
                .pools
                .iter()
                .filter(|p| p.active)
                .map(|p| (p.name.clone(), p.available))
                .collect(),
            uefi_available: h.domcaps.as_ref().is_some_and(|d| d.supports_uefi()),
            local_files: !self.uri().is_remote(),
            os_min_memory_mib: min_mem,
        }
    }

    pub(super) fn step_of(field: Field) -> usize {
        match field {
            Field::Media | Field::Url | Field::Image | Field::CloudInit => 0,
            Field::Memory | Field::Vcpus => 2,
            Field::Storage => STORAGE_STEP,
            Field::Name | Field::Firmware => 4,
        }
    }

    /// Every problem of the spec, each with the step that shows it.
    pub fn problems(&self) -> Vec<(Field, Problem)> {
        validate(&self.spec(), &self.limits())
    }

    pub(super) fn skips_storage(&self) -> bool {
        self.inner.method.kind() == MethodKind::Import
    }

    pub(super) fn update_summary(&self) {
        let s = self.spec();
        let install = match &s.install {
            InstallMethod::LocalMedia(MediaSource::Path(p)) => p.clone(),
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
        self.inner.finish.set_summary(&[
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

    pub(super) fn suggest_name(&self) -> String {
        let base = self
            .inner
            .os
            .chosen_os()
            .map(|o| o.short_id().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "vm".to_owned());
        let taken = self
            .inner
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
