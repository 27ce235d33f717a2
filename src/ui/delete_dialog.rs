//! The Delete question: says exactly what goes, with each disk to delete ticked,
//! and deletes only after the person confirms.

use adw::prelude::*;
use gettextrs::gettext;
use gtk::glib;

use crate::i18n::{gettext_f, ngettext_f};
use crate::model::{DomainAction, DomainObject};
use crate::ui::formatting::format_size;

/// Asks about deleting `domains` (listing their disks first, off the main thread),
/// then deletes the machines and the ticked volumes. `toast` reports failures.
pub fn present(
    parent: &gtk::Window,
    domains: Vec<DomainObject>,
    toast: impl Fn(&str) + Clone + 'static,
) {
    let parent = parent.clone();
    glib::spawn_future_local(async move {
        let mut disks = Vec::new();
        for domain in &domains {
            let Some(connection) = domain.connection() else {
                continue;
            };
            match connection.deletable_storage(domain).await {
                Ok(storage) => disks.extend(storage.into_iter().map(|s| (domain.clone(), s))),
                Err(error) => toast(&gettext_f(
                    "Could not list the disks of “{name}”: {error}",
                    &[("name", &domain.name()), ("error", &error)],
                )),
            }
        }
        let names: Vec<String> = domains.iter().map(|d| d.name().to_string()).collect();
        let heading = ngettext_f(
            "Delete “{names}”?",
            "Delete {n} Virtual Machines?",
            names.len() as u32,
            &[
                ("names", &names.join(", ")),
                ("n", &names.len().to_string()),
            ],
        );
        let running = domains.iter().any(|d| d.state().is_active());
        let mut body = gettext(
            "The definition, saved state, snapshot records and firmware variables are removed. This cannot be undone.",
        );
        if running {
            body.push(' ');
            body.push_str(&gettext("Running machines are forced off first."));
        }

        let dialog = adw::MessageDialog::new(Some(&parent), Some(&heading), Some(&body));
        let checks = gtk::Box::new(gtk::Orientation::Vertical, 6);
        let mut boxes = Vec::new();
        let deletable: Vec<_> = disks
            .iter()
            .filter(|(_, s)| s.device == "disk" || s.device == "lun")
            .collect();
        if !deletable.is_empty() {
            let label = gtk::Label::new(Some(&gettext("Also delete these disks:")));
            label.set_xalign(0.0);
            label.add_css_class("heading");
            checks.append(&label);
        }
        for (domain, storage) in deletable {
            let size = storage.capacity.map(format_size).unwrap_or_default();
            let text = if size.is_empty() {
                storage.path.clone()
            } else {
                format!("{} ({size})", storage.path)
            };
            let check = gtk::CheckButton::with_label(&text);
            // Only libvirt volumes can be deleted through libvirt; shared or read-only
            // disks are left unticked because other machines may need them.
            let removable = storage.pool.is_some();
            check.set_active(removable && !storage.shared);
            check.set_sensitive(removable);
            if !removable {
                check.set_tooltip_text(Some(&gettext(
                    "Not a storage volume libvirt manages; delete it by hand if you wish",
                )));
            }
            check.update_property(&[gtk::accessible::Property::Label(&gettext_f(
                "Delete disk {path} of {name}",
                &[("path", &storage.path), ("name", &domain.name())],
            ))]);
            checks.append(&check);
            boxes.push((domain.clone(), storage.path.clone(), check));
        }
        if !boxes.is_empty() {
            dialog.set_extra_child(Some(&checks));
        }
        dialog.add_responses(&[
            ("cancel", &gettext("_Cancel")),
            ("delete", &gettext("_Delete")),
        ]);
        dialog.set_response_appearance("delete", adw::ResponseAppearance::Destructive);
        dialog.set_default_response(Some("cancel"));
        dialog.set_close_response("cancel");

        if crate::ui::choose(&dialog).await != "delete" {
            return;
        }
        for domain in domains {
            let remove_storage: Vec<String> = boxes
                .iter()
                .filter(|(d, _, check)| *d == domain && check.is_active())
                .map(|(_, path, _)| path.clone())
                .collect();
            let Some(connection) = domain.connection() else {
                continue;
            };
            if let Err(error) = connection
                .run_action(&domain, DomainAction::Delete { remove_storage })
                .await
            {
                toast(&gettext_f(
                    "Could not delete “{name}”: {error}",
                    &[("name", &domain.name()), ("error", &error)],
                ));
            }
        }
    });
}
