//! The questions a snapshot row asks before acting: Revert (what is lost, the state
//! after, or why this host cannot), Delete (exactly which snapshots go and which
//! files stay on the host) and Edit Description. Each reads the VM's facts afresh
//! off the main thread, asks, then runs the operation; failures show libvirt's text.

use adw::prelude::*;
use gettextrs::gettext;

use crate::i18n::{gettext_f, ngettext_f};
use crate::model::snapshots::{
    plan_delete, plan_revert, version_text, AfterRevert, Loss, RevertStart, SnapshotFacts,
    EXTERNAL_REVERT_SINCE,
};
use crate::model::DomainObject;

/// The window holding `widget`.
fn window_of(widget: &gtk::Widget) -> Option<gtk::Window> {
    widget.root().and_downcast::<gtk::Window>()
}

/// The VM's facts, or a toast with libvirt's words.
async fn facts(widget: &gtk::Widget, domain: &DomainObject) -> Option<SnapshotFacts> {
    let connection = domain.connection()?;
    match connection.snapshot_facts(domain).await {
        Ok(facts) => Some(facts),
        Err(error) => {
            crate::ui::toast(
                widget,
                &gettext_f(
                    "Could not read the snapshots of “{vm}”: {error}",
                    &[
                        ("vm", &domain.name()),
                        ("error", &crate::model::error_text(&error)),
                    ],
                ),
            );
            None
        }
    }
}

fn message(
    widget: &gtk::Widget,
    heading: &str,
    body: &str,
    action: (&str, &str),
    appearance: adw::ResponseAppearance,
) -> adw::MessageDialog {
    let dialog = adw::MessageDialog::new(window_of(widget).as_ref(), Some(heading), Some(body));
    dialog.add_responses(&[("cancel", &gettext("_Cancel")), action]);
    dialog.set_response_appearance(action.0, appearance);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    dialog
}

/// The sentences saying what reverting loses and where the VM ends.
pub fn revert_body(loses: &[Loss], after: AfterRevert) -> String {
    let mut lines: Vec<String> = loses
        .iter()
        .map(|loss| match loss {
            Loss::RunningState => gettext(
                "The machine's present state is lost: its memory, open programs and unsaved work.",
            ),
            Loss::DiskChanges => {
                gettext("Everything written to its disks since the snapshot was taken is lost.")
            }
            Loss::ManagedSave => gettext("Its saved memory (from Save and Stop) is removed."),
        })
        .collect();
    lines.push(match after {
        AfterRevert::Running => gettext("Afterwards it runs from the moment of the snapshot."),
        AfterRevert::Paused => gettext("Afterwards it is paused at the moment of the snapshot."),
        AfterRevert::ShutOff => gettext("Afterwards it is shut off, its disks as they were then."),
    });
    lines.push(gettext(
        "To keep the present state, take a snapshot of it first.",
    ));
    lines.join("\n\n")
}

/// Revert `domain` to snapshot `name`, after saying what is lost.
pub async fn revert(widget: gtk::Widget, domain: DomainObject, name: String) {
    let Some(facts) = facts(&widget, &domain).await else {
        return;
    };
    let Some(snapshot) = facts.snapshots.iter().find(|s| s.name == name) else {
        return;
    };
    let plan = plan_revert(
        snapshot,
        facts.active,
        facts.managed_save,
        RevertStart::AsTaken,
        facts.support,
    );
    let vm = domain.name();
    if let Some(block) = plan.blocked {
        let crate::model::snapshots::RevertBlock::External { libvirt_version } = block;
        let dialog = adw::MessageDialog::new(
            window_of(&widget).as_ref(),
            Some(&gettext_f("Cannot Revert to “{name}”", &[("name", &name)])),
            Some(&gettext_f(
                "“{name}” is an external snapshot, and this host's libvirt ({version}) cannot revert to external snapshots (libvirt {since} and later can). You can keep it as a record of that moment, or delete it.",
                &[
                    ("name", &name),
                    ("version", &version_text(libvirt_version)),
                    ("since", &version_text(EXTERNAL_REVERT_SINCE)),
                ],
            )),
        );
        dialog.add_response("close", &gettext("_Close"));
        crate::ui::choose(&dialog).await;
        return;
    }
    let dialog = message(
        &widget,
        &gettext_f(
            "Revert “{vm}” to “{name}”?",
            &[("vm", &vm), ("name", &name)],
        ),
        &revert_body(&plan.loses, plan.after),
        ("revert", &gettext("_Revert")),
        adw::ResponseAppearance::Destructive,
    );
    if crate::ui::choose(&dialog).await != "revert" {
        return;
    }
    let Some(connection) = domain.connection() else {
        return;
    };
    if let Err(error) = connection.revert_snapshot(&domain, &name, plan).await {
        crate::ui::toast(
            &widget,
            &gettext_f(
                "Could not revert “{vm}” to “{name}”: {error}",
                &[("vm", &vm), ("name", &name), ("error", &error.text())],
            ),
        );
    }
}

/// Delete snapshot `name` (and its descendants with `with_children`), after saying
/// exactly which snapshots go and which files stay.
pub async fn delete(widget: gtk::Widget, domain: DomainObject, name: String, with_children: bool) {
    let Some(facts) = facts(&widget, &domain).await else {
        return;
    };
    let plan = match plan_delete(&facts.snapshots, &name, with_children, &facts.xml) {
        Ok(plan) => plan,
        Err(error) => {
            crate::ui::toast(&widget, &crate::model::error_text(&error));
            return;
        }
    };
    let names = plan.names();
    let heading = if names.len() > 1 {
        ngettext_f(
            "Delete “{name}” and the Snapshot After It?",
            "Delete “{name}” and the {n} Snapshots After It?",
            (names.len() - 1) as u32,
            &[("name", &name), ("n", &(names.len() - 1).to_string())],
        )
    } else {
        gettext_f("Delete Snapshot “{name}”?", &[("name", &name)])
    };
    let mut body = Vec::new();
    if names.len() > 1 {
        body.push(gettext_f(
            "These snapshots go: {names}.",
            &[("names", &names.join(", "))],
        ));
    }
    body.push(gettext(
        "The machine itself and its disks as they are now do not change. This cannot be undone.",
    ));
    let forgotten: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.metadata_only)
        .map(|s| s.name.clone())
        .collect();
    if !forgotten.is_empty() {
        body.push(gettext_f(
            "libvirt can only forget {names}: their disks are no longer in the machine's chain of files, so their data cannot be merged away.",
            &[("names", &forgotten.join(", "))],
        ));
    }
    if !plan.files_kept.is_empty() {
        body.push(gettext_f(
            "These files may stay on the host, to remove by hand if no longer needed: {files}.",
            &[("files", &plan.files_kept.join(", "))],
        ));
    }
    let dialog = message(
        &widget,
        &heading,
        &body.join("\n\n"),
        ("delete", &gettext("_Delete")),
        adw::ResponseAppearance::Destructive,
    );
    if crate::ui::choose(&dialog).await != "delete" {
        return;
    }
    let Some(connection) = domain.connection() else {
        return;
    };
    match connection.delete_snapshots(&domain, plan).await {
        Ok(kept) if !kept.is_empty() => crate::ui::toast(
            &widget,
            &gettext_f(
                "Snapshots deleted. Files left on the host: {files}",
                &[("files", &kept.join(", "))],
            ),
        ),
        Ok(_) => {}
        Err(error) => crate::ui::toast(
            &widget,
            &gettext_f(
                "Could not delete snapshot “{name}”: {error}",
                &[("name", &name), ("error", &error.text())],
            ),
        ),
    }
}

/// Change snapshot `name`'s description.
pub async fn describe(widget: gtk::Widget, domain: DomainObject, name: String) {
    let Some(facts) = facts(&widget, &domain).await else {
        return;
    };
    let Some(snapshot) = facts.snapshots.iter().find(|s| s.name == name) else {
        return;
    };
    let dialog = message(
        &widget,
        &gettext_f("Description of “{name}”", &[("name", &name)]),
        "",
        ("save", &gettext("_Save")),
        adw::ResponseAppearance::Suggested,
    );
    dialog.set_default_response(Some("save"));
    let entry = gtk::Entry::builder()
        .text(snapshot.description.as_str())
        .activates_default(true)
        .build();
    entry.update_property(&[gtk::accessible::Property::Label(&gettext("Description"))]);
    dialog.set_extra_child(Some(&entry));
    entry.grab_focus();
    if crate::ui::choose(&dialog).await != "save" {
        return;
    }
    let text = entry.text().to_string();
    if text == snapshot.description {
        return;
    }
    let Some(connection) = domain.connection() else {
        return;
    };
    if let Err(error) = connection
        .set_snapshot_description(&domain, &name, &text)
        .await
    {
        crate::ui::toast(
            &widget,
            &gettext_f(
                "Could not change the description of “{name}”: {error}",
                &[
                    ("name", &name),
                    ("error", &crate::model::error_text(&error)),
                ],
            ),
        );
    }
}
