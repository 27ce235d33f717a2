//! The words for what a long job is doing, in the person's language.

use gettextrs::gettext;

use crate::virt::job::Stage;

fn size(bytes: u64) -> String {
    glib::format_size(bytes).to_string()
}

/// A sentence for `stage`, e.g. "Copying disk vda: 1.2 GB of 4.0 GB".
pub fn stage_text(stage: &Stage) -> String {
    match stage {
        Stage::Screenshot => gettext("Saving a picture of the screen…"),
        Stage::TakingSnapshot { name } => {
            gettext("Taking snapshot “{name}”…").replace("{name}", name)
        }
        Stage::Reverting { name } => {
            gettext("Reverting to snapshot “{name}”…").replace("{name}", name)
        }
        Stage::DeletingSnapshot { name } => {
            gettext("Deleting snapshot “{name}”…").replace("{name}", name)
        }
        Stage::CopyingDisk {
            target,
            done,
            total,
        } => gettext("Copying disk {disk}: {done} of {total}")
            .replace("{disk}", target)
            .replace("{done}", &size(*done))
            .replace("{total}", &size(*total)),
        Stage::TransferringDisk {
            target,
            done,
            total,
        } => gettext("Sending disk {disk}: {done} of {total}")
            .replace("{disk}", target)
            .replace("{done}", &size(*done))
            .replace("{total}", &size(*total)),
        Stage::MakingOverlay { target } => {
            gettext("Making a thin copy of disk {disk}…").replace("{disk}", target)
        }
        Stage::CopyingNvram => gettext("Copying the UEFI variables…"),
        Stage::WaitingToCancel { volume } => gettext(
            "Cancelling: libvirt cannot stop copying {volume} midway; it is removed once the copy ends…",
        )
        .replace("{volume}", volume),
        Stage::Defining => gettext("Defining the new virtual machine…"),
        Stage::Migrating {
            done,
            total,
            iteration,
        } => {
            let base = gettext("Moving memory and disks: {done} of {total}")
                .replace("{done}", &size(*done))
                .replace("{total}", &size(*total));
            if *iteration > 1 {
                // Translators: the guest keeps changing memory, so it is sent again.
                format!(
                    "{base} ({})",
                    gettext("pass {n}").replace("{n}", &iteration.to_string())
                )
            } else {
                base
            }
        }
        Stage::CleaningUp => gettext("Removing what was made…"),
    }
}
