//! Creating the VM through the model; the dialog closes when it is made, and shows
//! libvirt's reason (after the model removed what it had made) when it is not. On a
//! remote host a local install medium is first uploaded into one of its pools, with
//! progress and Stop Upload; what the upload made goes again when anything fails.

use std::path::PathBuf;

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use super::NewVmDialog;
use crate::i18n::gettext_f;
use crate::model::host::{Transfer, TransferState, VolumeObject};
use crate::model::new_vm::{InstallMethod, MediaSource};
use crate::model::ConnectionObject;
use crate::ui::new_vm::parts::CreatedPart;

impl NewVmDialog {
    /// Creates the VM: started, unless it is to be customised first.
    pub(super) fn start_create(&self) {
        let imp = self.imp();
        if !self.can_create() {
            return;
        }
        let Some(connection) = imp.method_page.connection() else {
            return;
        };
        let mut spec = self.spec();
        // A remote host reads the medium from one of its pools, once uploaded there.
        let upload = match (&spec.install, imp.method_page.upload_pool()) {
            (InstallMethod::LocalMedia(MediaSource::Path(p)), pool) if !pool.is_empty() => {
                Some((PathBuf::from(p), pool))
            }
            _ => None,
        };
        let customize = imp.finish_page.customize();
        imp.busy.set(true);
        self.notify_busy();
        self.show_banner(None);
        self.update_actions();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let mut uploaded = None;
                if let Some((file, pool)) = upload {
                    match dialog.upload_medium(&connection, file, pool).await {
                        Ok((pool, volume)) => {
                            spec.install = InstallMethod::LocalMedia(MediaSource::Volume {
                                pool,
                                volume: volume.name(),
                            });
                            uploaded = Some(volume);
                        }
                        Err(text) => {
                            dialog.creation_ended(Some(text));
                            return;
                        }
                    }
                }
                let made = connection.create_vm(spec, !customize).await;
                match made {
                    Ok(created) => {
                        dialog.creation_ended(None);
                        tracing::info!(name = %created.name, uuid = %created.uuid, "created a VM");
                        dialog.emit_by_name::<()>(
                            "created",
                            &[&connection, &CreatedPart(created), &customize],
                        );
                        dialog.close();
                    }
                    Err(e) => {
                        // The uploaded medium was made for this VM only.
                        if let Some(volume) = uploaded {
                            remove_volume(&volume).await;
                        }
                        dialog.creation_ended(Some(gettext_f(
                            "The virtual machine could not be created: {reason}",
                            &[("reason", &e.to_string())],
                        )));
                    }
                }
            }
        ));
    }

    /// The wizard usable again; `failure` is shown above the pages.
    fn creation_ended(&self, failure: Option<String>) {
        let imp = self.imp();
        imp.busy.set(false);
        self.notify_busy();
        let failed = failure.is_some();
        self.show_banner(failure);
        self.update_actions();
        if failed {
            self.reload_names();
        }
    }

    /// Uploads the local medium `file` into `pool` of the connection's host, showing
    /// its progress; the pool and the new volume once all of it is there, else what
    /// the person reads (nothing of the upload stays then).
    async fn upload_medium(
        &self,
        connection: &ConnectionObject,
        file: PathBuf,
        pool: String,
    ) -> Result<(String, VolumeObject), String> {
        let failed = |reason: String| {
            gettext_f(
                "The install medium could not be uploaded: {reason}",
                &[("reason", &reason)],
            )
        };
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let up = connection
            .upload_medium(file, pool)
            .await
            .map_err(|e| failed(e.to_string()))?;
        tracing::info!(pool = %up.pool, volume = %up.volume.name(), "uploading the install medium");
        self.show_upload(
            Some(&up.transfer),
            &gettext_f(
                "Uploading {file} into the storage pool “{pool}” of {host}…",
                &[
                    ("file", &file_name),
                    ("pool", &up.pool),
                    ("host", &connection.display_name()),
                ],
            ),
        );
        let state = up.transfer.ended().await;
        self.show_upload(None, "");
        tracing::info!(?state, "the install medium's upload ended");
        match state {
            TransferState::Finished => Ok((up.pool, up.volume)),
            TransferState::Cancelled => {
                remove_volume(&up.volume).await;
                Err(gettext(
                    "The upload was stopped. Nothing was created on the host.",
                ))
            }
            _ => {
                remove_volume(&up.volume).await;
                Err(failed(up.transfer.error().unwrap_or_default()))
            }
        }
    }

    /// Shows the running upload `transfer` (`None`: hides the bar).
    fn show_upload(&self, transfer: Option<&Transfer>, text: &str) {
        let imp = self.imp();
        imp.upload.replace(transfer.cloned());
        imp.upload_bar.set_visible(transfer.is_some());
        imp.upload_bar.set_reveal_child(transfer.is_some());
        self.action_set_enabled("wizard.stop-upload", transfer.is_some());
        let Some(t) = transfer else {
            return;
        };
        imp.upload_label.set_label(text);
        let progress = imp.upload_progress.get();
        let show = move |t: &Transfer| {
            progress.set_fraction(t.fraction());
            progress.set_text(Some(&gettext_f(
                "{done} of {total}",
                &[
                    ("done", &glib::format_size(t.done())),
                    ("total", &glib::format_size(t.total())),
                ],
            )));
        };
        show(t);
        t.connect_done_notify(show);
    }
}

/// Deletes a volume the wizard uploaded; a failure is only logged (the person reads
/// why the creation failed, which matters more).
async fn remove_volume(volume: &VolumeObject) {
    if let Err(e) = volume.delete().await {
        tracing::warn!(error = %e, volume = %volume.name(), "could not remove the uploaded medium");
    }
}
