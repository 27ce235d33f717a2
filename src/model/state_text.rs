//! Human, translated text for a domain's state reason (virDomain*Reason numbers).

use gettextrs::gettext;

use crate::virt::domains::RunState;

/// Why the domain is in `state`, as a short phrase for people; empty when libvirt
/// does not know.
pub fn reason_text(state: RunState, reason: i32) -> String {
    let s = match (state, reason) {
        (RunState::Running, 1) => "Booted",
        (RunState::Running, 2) => "Migrated",
        (RunState::Running, 3) => "Restored",
        (RunState::Running, 4) => "Reverted to a snapshot",
        (RunState::Running, 5) => "Resumed",
        (RunState::Running, 6) => "Migration canceled",
        (RunState::Running, 7) => "Save canceled",
        (RunState::Running, 8) => "Woken up",
        (RunState::Running, 9) => "Running after a crash",
        (RunState::Running, 10) => "Running after migration (post-copy)",
        (RunState::Running, 11) => "Running after a failed post-copy migration",
        (RunState::Paused, 1) => "Paused by the user",
        (RunState::Paused, 2) => "Paused for migration",
        (RunState::Paused, 3) => "Paused for saving",
        (RunState::Paused, 4) => "Paused for a core dump",
        (RunState::Paused, 5) => "Paused after a disk I/O error",
        (RunState::Paused, 6) => "Paused by the watchdog",
        (RunState::Paused, 7) => "Paused after reverting to a snapshot",
        (RunState::Paused, 8) => "Paused while shutting down",
        (RunState::Paused, 9) => "Paused for a snapshot",
        (RunState::Paused, 10) => "Paused after a crash",
        (RunState::Paused, 11) => "Starting up",
        (RunState::Paused, 12) => "Paused during post-copy migration",
        (RunState::Paused, 13) => "Paused after a failed post-copy migration",
        (RunState::ShuttingDown, 1) => "Shutting down at the user's request",
        (RunState::Shutoff, 1) => "Shut down",
        (RunState::Shutoff, 2) => "Forced off",
        (RunState::Shutoff, 3) => "Crashed",
        (RunState::Shutoff, 4) => "Migrated away",
        (RunState::Shutoff, 5) => "Saved",
        (RunState::Shutoff, 6) => "Failed to start",
        (RunState::Shutoff, 7) => "Reverted to a snapshot",
        (RunState::Shutoff, 8) => "Stopped by the daemon",
        (RunState::Crashed, 1) => "Guest kernel panic",
        _ => return String::new(),
    };
    gettext(s)
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
