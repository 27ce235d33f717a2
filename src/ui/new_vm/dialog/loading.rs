//! Reading what the wizard offers: the osinfo database, the host's facts and domain
//! capabilities (on the connection's worker), and the OS of a local ISO.

use std::sync::Arc;

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use super::NewVmDialog;
use crate::i18n::gettext_f;
use crate::virt::new_vm::host::{self, HostInfo};
use crate::virt::osinfo::OsDb;

impl NewVmDialog {
    /// Reads the osinfo database on a thread (a few hundred files).
    pub(super) fn load_osinfo(&self) {
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send_blocking(OsDb::load_system().map(Arc::new));
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let Ok(r) = rx.recv().await else { return };
            Self::with(&w, |d| match r {
                Ok(db) => {
                    d.inner.os.set_db(db);
                    d.detect_media();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "no osinfo database");
                    d.inner.os.detected_row.set_subtitle(&e.to_string());
                }
            });
        });
    }

    /// Reads the chosen host's facts on its worker.
    pub(super) fn load_host(&self) {
        let Some(conn) = self.connection() else {
            self.show_banner(Some(gettext(
                "No connection is open: connect to a host before creating a virtual machine",
            )));
            return;
        };
        *self.inner.host.borrow_mut() = None;
        self.refresh();
        let fut = conn.with_connect(host::gather);
        let w = self.weak();
        glib::spawn_future_local(async move {
            let r = fut.await;
            Self::with(&w, |d| match r {
                Ok(Ok(h)) => {
                    d.fill_host(&h);
                    *d.inner.host.borrow_mut() = Some(h);
                    d.show_banner(None);
                    d.refresh();
                }
                Ok(Err(e)) => d.show_banner(Some(e.to_string())),
                Err(e) => d.show_banner(Some(e)),
            });
        });
    }

    pub(super) fn fill_host(&self, h: &HostInfo) {
        let i = &self.inner;
        i.method.fill_host(h);
        i.storage.fill_host(h);
        i.finish.fill_host(h, self.uri().is_session());
        let max = h
            .domcaps
            .as_ref()
            .and_then(|d| d.max_vcpus)
            .unwrap_or(0)
            .max(h.caps.cpus);
        i.res.set_host(h.caps.memory_kib / 1024, h.caps.cpus, max);
        i.res
            .cpus_spin
            .set_value(2.0_f64.min(h.caps.cpus.max(1) as f64));
        let uefi = h.domcaps.as_ref().is_some_and(|d| d.supports_uefi());
        i.finish.firmware_row.set_subtitle(&if uefi {
            String::new()
        } else {
            gettext("No UEFI firmware on this host")
        });
        self.apply_os_defaults();
    }

    /// Re-reads the domain capabilities (UEFI, vCPU limit) for the chosen
    /// architecture and machine type.
    pub(super) fn reload_domcaps(&self) {
        let (Some(conn), Some(vt)) = (
            self.connection(),
            self.inner
                .host
                .borrow()
                .as_ref()
                .and_then(|h| h.caps.best_domain_type(&self.inner.method.arch())),
        ) else {
            return;
        };
        let (arch, machine) = (self.inner.method.arch(), self.inner.method.machine());
        if machine.is_empty() {
            return;
        }
        let fut = conn.with_connect(move |c| host::domcaps(c, &vt, &arch, &machine));
        let w = self.weak();
        glib::spawn_future_local(async move {
            if let Ok(Ok(dc)) = fut.await {
                Self::with(&w, |d| {
                    if let Some(h) = d.inner.host.borrow_mut().as_mut() {
                        h.domcaps = dc;
                    }
                    d.refresh();
                });
            }
        });
    }

    /// Re-reads the host's domain names (after another client defined one).
    pub(super) fn reload_names(&self) {
        let Some(conn) = self.connection() else {
            return;
        };
        let fut = conn.with_connect(|c| {
            c.list_all_domains(0)
                .map(|ds| ds.iter().filter_map(|d| d.name().ok()).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            if let Ok(names) = fut.await {
                Self::with(&w, |d| {
                    if let Some(h) = d.inner.host.borrow_mut().as_mut() {
                        h.domain_names = names;
                    }
                    d.refresh();
                });
            }
        });
    }

    /// Detects the OS of a local ISO on a thread.
    pub(super) fn detect_media(&self) {
        let path = self.inner.method.iso_row.text().trim().to_owned();
        let Some(db) = self.inner.os.db() else { return };
        if path.is_empty() || self.uri().is_remote() {
            return;
        }
        let arch = self.inner.method.arch();
        let (tx, rx) = async_channel::bounded(1);
        std::thread::spawn(move || {
            let arch = (!arch.is_empty()).then_some(arch);
            let found = db
                .identify_file(std::path::Path::new(&path), arch.as_deref())
                .ok()
                .flatten()
                .map(|(os, _)| os.id.clone());
            let _ = tx.send_blocking((path, found));
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let Ok((path, found)) = rx.recv().await else {
                return;
            };
            Self::with(&w, |d| {
                // Only the answer for what the field still says counts.
                if d.inner.method.iso_row.text().trim() == path {
                    d.inner.os.set_detected(found);
                    d.apply_os_defaults();
                    d.refresh();
                }
            });
        });
    }

    /// Memory, CPUs and disk from the chosen OS's recommendations, within the host.
    pub(super) fn apply_os_defaults(&self) {
        let i = &self.inner;
        let (Some(db), Some(os)) = (i.os.db(), i.os.chosen_os()) else {
            i.res.set_recommendation(None, None);
            return;
        };
        let arch = i.method.arch();
        let r = db.resources(&os, if arch.is_empty() { "x86_64" } else { &arch });
        let mib = |b: u64| b >> 20;
        let ram = r.recommended.ram.or(r.minimum.ram).map(mib).unwrap_or(2048);
        let host_mib = i
            .host
            .borrow()
            .as_ref()
            .map(|h| h.caps.memory_kib / 1024)
            .unwrap_or(0);
        let ram = if host_mib > 0 {
            ram.min(host_mib / 2).max(ram.min(host_mib))
        } else {
            ram
        };
        i.res.memory_spin.set_value(ram as f64);
        // Two processors unless the OS asks for more, never more than the host has.
        let host_cpus = i.host.borrow().as_ref().map(|h| h.caps.cpus).unwrap_or(0);
        let want = r
            .recommended
            .n_cpus
            .or(r.minimum.n_cpus)
            .unwrap_or(1)
            .max(2);
        let cpus = if host_cpus > 0 {
            want.min(host_cpus)
        } else {
            want
        };
        i.res.cpus_spin.set_value(cpus as f64);
        if let Some(s) = r.recommended.storage.or(r.minimum.storage) {
            i.storage.size_spin.set_value((s >> 30).max(1) as f64);
        }
        i.res.set_recommendation(
            r.recommended.ram.map(|b| {
                gettext_f(
                    "{os} recommends {mib} MiB",
                    &[("os", &os.name), ("mib", &mib(b).to_string())],
                )
            }),
            r.minimum.n_cpus.map(|n| {
                gettext_f(
                    "{os} needs at least {n}",
                    &[("os", &os.name), ("n", &n.to_string())],
                )
            }),
        );
    }
}
