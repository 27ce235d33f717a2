//! Human, translated text for a domain's state reason (virDomain*Reason numbers).

use gettextrs::gettext;

use crate::virt::domains::RunState;

/// Why the domain is in `state`, as a short phrase for people; empty when libvirt
/// does not know.
pub fn reason_text(state: RunState, reason: i32) -> String {
    // One literal per gettext call, so xgettext extracts them all.
    match (state, reason) {
        (RunState::Running, 1) => gettext("Booted"),
        (RunState::Running, 2) => gettext("Migrated"),
        (RunState::Running, 3) => gettext("Restored"),
        (RunState::Running, 4) => gettext("Reverted to a snapshot"),
        (RunState::Running, 5) => gettext("Resumed"),
        (RunState::Running, 6) => gettext("Migration canceled"),
        (RunState::Running, 7) => gettext("Save canceled"),
        (RunState::Running, 8) => gettext("Woken up"),
        (RunState::Running, 9) => gettext("Running after a crash"),
        (RunState::Running, 10) => gettext("Running after migration (post-copy)"),
        (RunState::Running, 11) => gettext("Running after a failed post-copy migration"),
        (RunState::Paused, 1) => gettext("Paused by the user"),
        (RunState::Paused, 2) => gettext("Paused for migration"),
        (RunState::Paused, 3) => gettext("Paused for saving"),
        (RunState::Paused, 4) => gettext("Paused for a core dump"),
        (RunState::Paused, 5) => gettext("Paused after a disk I/O error"),
        (RunState::Paused, 6) => gettext("Paused by the watchdog"),
        (RunState::Paused, 7) => gettext("Paused after reverting to a snapshot"),
        (RunState::Paused, 8) => gettext("Paused while shutting down"),
        (RunState::Paused, 9) => gettext("Paused for a snapshot"),
        (RunState::Paused, 10) => gettext("Paused after a crash"),
        (RunState::Paused, 11) => gettext("Starting up"),
        (RunState::Paused, 12) => gettext("Paused during post-copy migration"),
        (RunState::Paused, 13) => gettext("Paused after a failed post-copy migration"),
        (RunState::ShuttingDown, 1) => gettext("Shutting down at the user's request"),
        (RunState::Shutoff, 1) => gettext("Shut down"),
        (RunState::Shutoff, 2) => gettext("Forced off"),
        (RunState::Shutoff, 3) => gettext("Crashed"),
        (RunState::Shutoff, 4) => gettext("Migrated away"),
        (RunState::Shutoff, 5) => gettext("Saved"),
        (RunState::Shutoff, 6) => gettext("Failed to start"),
        (RunState::Shutoff, 7) => gettext("Reverted to a snapshot"),
        (RunState::Shutoff, 8) => gettext("Stopped by the daemon"),
        (RunState::Crashed, 1) => gettext("Guest kernel panic"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_reasons() {
        assert_eq!(reason_text(RunState::Shutoff, 2), "Forced off");
        assert_eq!(reason_text(RunState::Running, 1), "Booted");
        assert_eq!(reason_text(RunState::Running, 0), "");
        assert_eq!(reason_text(RunState::Blocked, 99), "");
    }
}
