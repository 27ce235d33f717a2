//! Creating the VM through the model; the dialog closes when it is made, and shows
//! libvirt's reason (after the model removed what it had made) when it is not.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

use super::NewVmDialog;
use crate::i18n::gettext_f;
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
        let spec = self.spec();
        let customize = imp.finish_page.customize();
        imp.busy.set(true);
        self.notify_busy();
        self.show_banner(None);
        self.update_actions();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let made = connection.create_vm(spec, !customize).await;
                dialog.imp().busy.set(false);
                dialog.notify_busy();
                match made {
                    Ok(created) => {
                        tracing::info!(name = %created.name, uuid = %created.uuid, "created a VM");
                        dialog.emit_by_name::<()>(
                            "created",
                            &[&connection, &CreatedPart(created), &customize],
                        );
                        dialog.close();
                    }
                    Err(e) => {
                        dialog.show_banner(Some(gettext_f(
                            "The virtual machine could not be created: {reason}",
                            &[("reason", &e.to_string())],
                        )));
                        dialog.update_actions();
                        dialog.reload_names();
                    }
                }
            }
        ));
    }
}
