//! Human, translated text for a domain's state and its reason (virDomain*Reason
//! numbers).

use gettextrs::gettext;

use crate::virt::domains::RunState;

/// The state and why it is so, as one phrase for people ("Paused by the user",
/// "Shut off after a crash"); empty when the reason adds nothing to the state's own
/// name (a VM that booted is simply running), so that no label repeats itself.
pub fn state_description(state: RunState, reason: i32) -> String {
    // One literal per gettext call, so xgettext extracts them all.
    match (state, reason) {
        (RunState::Running, 2) => gettext("Running after migration"),
        (RunState::Running, 3) => gettext("Running, restored from a saved state"),
        (RunState::Running, 4) => gettext("Running from a snapshot"),
        (RunState::Running, 6) => gettext("Running after a canceled migration"),
        (RunState::Running, 7) => gettext("Running after a canceled save"),
        (RunState::Running, 8) => gettext("Running after waking up"),
        (RunState::Running, 9) => gettext("Running after a crash"),
        (RunState::Running, 10) => gettext("Running during post-copy migration"),
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
        (RunState::Shutoff, 2) => gettext("Forced off"),
        (RunState::Shutoff, 3) => gettext("Shut off after a crash"),
        (RunState::Shutoff, 4) => gettext("Migrated away"),
        (RunState::Shutoff, 5) => gettext("Saved"),
        (RunState::Shutoff, 6) => gettext("Failed to start"),
        (RunState::Shutoff, 7) => gettext("Shut off after reverting to a snapshot"),
        (RunState::Shutoff, 8) => gettext("Stopped by the daemon"),
        (RunState::Crashed, 1) => gettext("Crashed: the guest kernel panicked"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_that_add_something_make_one_phrase() {
        assert_eq!(state_description(RunState::Shutoff, 2), "Forced off");
        assert_eq!(state_description(RunState::Paused, 1), "Paused by the user");
    }

    #[test]
    fn ordinary_reasons_leave_the_state_alone() {
        // Booted, shut down normally, resumed, or unknown: the state's name says it all.
        assert_eq!(state_description(RunState::Running, 1), "");
        assert_eq!(state_description(RunState::Running, 5), "");
        assert_eq!(state_description(RunState::Shutoff, 1), "");
        assert_eq!(state_description(RunState::Blocked, 99), "");
    }
}
