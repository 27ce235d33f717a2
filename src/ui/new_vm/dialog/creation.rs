//! Creating the VM: on the connection's worker (cloud-init seed, network install
//! files, volumes, definition, start), with libvirt's error shown after the rollback.

use std::path::PathBuf;

use adw::prelude::*;
use gtk::glib;

use super::NewVmDialog;
use crate::i18n::gettext_f;
use crate::virt::cloud_init;
use crate::virt::new_vm::tree;
use crate::virt::new_vm::{create, CreatePlan, Created, InstallMethod};

impl NewVmDialog {
    /// Creates the VM on the connection's worker; closes on success, shows libvirt's
    /// error (after the rollback) on failure.
    pub(super) fn start_create(&self) {
        let i = &self.inner;
        if i.busy.get() || !self.problems().is_empty() {
            return;
        }
        let Some(conn) = self.connection() else {
            return;
        };
        let spec = self.spec();
        let uri = self.uri();
        let pool_path = if uri.is_session() {
            glib::user_data_dir()
                .join("libvirt/images")
                .to_string_lossy()
                .into_owned()
        } else {
            "/var/lib/libvirt/images".to_owned()
        };
        let customize = i.finish.customize_switch.is_active();
        i.busy.set(true);
        i.spinner.start();
        self.show_banner(None);
        self.refresh();
        let fut = conn.with_connect(move |c| -> Result<Created, String> {
            let mut seed_dir: Option<PathBuf> = None;
            let seed = match &spec.install {
                InstallMethod::CloudImage { cloud_init: ci, .. } => {
                    let dir = std::env::temp_dir().join(format!(
                        "vireo-cidata-{}-{}",
                        spec.name,
                        std::process::id()
                    ));
                    let iid = format!("{}-{}", spec.name, glib::monotonic_time());
                    let p = cloud_init::build_seed_iso(&dir, ci, &spec.name, &iid)
                        .map_err(|e| e.to_string())?;
                    seed_dir = Some(dir);
                    Some(p)
                }
                _ => None,
            };
            let mut plan =
                CreatePlan::from_spec(&spec, seed.as_deref(), Some(pool_path), !customize)
                    .map_err(|e| e.to_string());
            if let (Ok(p), InstallMethod::NetworkTree { url, .. }) = (&mut plan, &spec.install) {
                let dir = std::env::temp_dir().join(format!(
                    "vireo-tree-{}-{}",
                    spec.name,
                    std::process::id()
                ));
                let fetched =
                    tree::fetch_boot_files(url, &spec.arch, &dir).map_err(|e| e.to_string());
                let added = fetched
                    .and_then(|(k, i)| p.add_tree_files(&spec, &k, &i).map_err(|e| e.to_string()));
                seed_dir = Some(dir);
                if let Err(e) = added {
                    plan = Err(e);
                }
            }
            let r = plan.and_then(|p| create(c, &p).map_err(|e| e.to_string()));
            if let Some(d) = seed_dir {
                let _ = std::fs::remove_dir_all(d);
            }
            r
        });
        let w = self.weak();
        glib::spawn_future_local(async move {
            let r = fut.await.and_then(|x| x);
            Self::with(&w, |d| {
                d.inner.busy.set(false);
                d.inner.spinner.stop();
                match r {
                    Ok(created) => {
                        tracing::info!(name = %created.name, uuid = %created.uuid, "created a VM");
                        if let Some(f) = d.inner.on_created.borrow().as_ref() {
                            f(&conn, &created, customize);
                        }
                        d.inner.window.close();
                    }
                    Err(e) => {
                        d.show_banner(Some(gettext_f(
                            "The virtual machine could not be created: {reason}",
                            &[("reason", &e)],
                        )));
                        d.reload_names();
                        d.refresh();
                    }
                }
            });
        });
    }
}
