//! The VM actions of the window (`win.domain-*`): which apply to which state, their
//! labels and menu, and running them on VMs with failures shown in libvirt's words.
//! They act on the VM of the tab shown, or on the list's selection.

use gettextrs::gettext;
use gtk::{gio, glib};

use crate::i18n::gettext_f;
use crate::model::{DomainAction, DomainObject, DomainState};

/// The list's actions, as named in `win.domain-*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAction {
    Start,
    Pause,
    Resume,
    Shutdown,
    Reboot,
    ForceOff,
    Reset,
    Save,
    Delete,
    Open,
    /// Opens the Take Snapshot dialog.
    TakeSnapshot,
    /// Shows the VM's snapshots (its tab's Snapshots page).
    Snapshots,
    /// Opens the Clone dialog.
    Clone,
    /// Opens the Move to Another Host dialog.
    Migrate,
}

impl ListAction {
    pub const ALL: [ListAction; 14] = [
        ListAction::Start,
        ListAction::Pause,
        ListAction::Resume,
        ListAction::Shutdown,
        ListAction::Reboot,
        ListAction::ForceOff,
        ListAction::Reset,
        ListAction::Save,
        ListAction::Delete,
        ListAction::Open,
        ListAction::TakeSnapshot,
        ListAction::Snapshots,
        ListAction::Clone,
        ListAction::Migrate,
    ];

    /// The action's name in the window's action group.
    pub fn action_name(self) -> &'static str {
        match self {
            ListAction::Start => "domain-start",
            ListAction::Pause => "domain-pause",
            ListAction::Resume => "domain-resume",
            ListAction::Shutdown => "domain-shutdown",
            ListAction::Reboot => "domain-reboot",
            ListAction::ForceOff => "domain-force-off",
            ListAction::Reset => "domain-reset",
            ListAction::Save => "domain-save",
            ListAction::Delete => "domain-delete",
            ListAction::Open => "domain-open",
            ListAction::TakeSnapshot => "domain-take-snapshot",
            ListAction::Snapshots => "domain-snapshots",
            ListAction::Clone => "domain-clone",
            ListAction::Migrate => "domain-migrate",
        }
    }

    pub fn accels(self) -> &'static [&'static str] {
        match self {
            ListAction::Start => &["<Control><Shift>r"],
            ListAction::Pause => &["<Control><Shift>p"],
            ListAction::Resume => &["<Control><Shift>u"],
            ListAction::Shutdown => &["<Control><Shift>d"],
            ListAction::Reboot => &["<Control><Shift>b"],
            ListAction::ForceOff => &["<Control><Shift>f"],
            ListAction::Reset => &["<Control><Shift>t"],
            ListAction::Save => &["<Control><Shift>s"],
            ListAction::Delete => &["Delete"],
            ListAction::Open => &["<Control>o"],
            ListAction::TakeSnapshot => &["<Control><Alt>s"],
            ListAction::Snapshots => &["<Control><Alt>h"],
            ListAction::Clone => &["<Control><Alt>c"],
            ListAction::Migrate => &["<Control><Alt>m"],
        }
    }

    /// Whether the action makes sense for a VM in `state`.
    pub fn applies_to(self, state: DomainState) -> bool {
        use DomainState::*;
        match self {
            ListAction::Start => matches!(state, Shutoff | Crashed),
            ListAction::Pause => matches!(state, Running | Blocked),
            ListAction::Resume => state == Paused,
            ListAction::Shutdown | ListAction::Reboot => matches!(state, Running | Blocked),
            ListAction::ForceOff => state.is_active() || state == Crashed,
            ListAction::Reset | ListAction::Save => matches!(state, Running | Blocked | Paused),
            ListAction::Delete | ListAction::Open | ListAction::Snapshots | ListAction::Clone => {
                true
            }
            // libvirt snapshots and moves running, paused and shut-off machines only.
            ListAction::TakeSnapshot | ListAction::Migrate => {
                matches!(state, Running | Blocked | Paused | Shutoff)
            }
        }
    }

    /// Whether the action asks the VM's host (all but Open: a tab shows what is known
    /// of a VM whose host does not answer).
    pub fn needs_host(self) -> bool {
        self != ListAction::Open
    }

    /// The actions whose dialog is about one VM.
    pub fn one_vm_only(self) -> bool {
        matches!(
            self,
            ListAction::TakeSnapshot
                | ListAction::Snapshots
                | ListAction::Clone
                | ListAction::Migrate
        )
    }

    /// Enabled when it applies to at least one selected VM; the one-VM dialogs want
    /// exactly one.
    pub fn enabled_for(self, states: &[DomainState]) -> bool {
        if self.one_vm_only() && states.len() != 1 {
            return false;
        }
        !states.is_empty() && states.iter().any(|s| self.applies_to(*s))
    }

    /// Destructive actions ask first when Preferences say so.
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            ListAction::ForceOff | ListAction::Reset | ListAction::Delete
        )
    }

    pub fn to_domain_action(self) -> Option<DomainAction> {
        Some(match self {
            ListAction::Start => DomainAction::Start,
            ListAction::Pause => DomainAction::Pause,
            ListAction::Resume => DomainAction::Resume,
            ListAction::Shutdown => DomainAction::Shutdown,
            ListAction::Reboot => DomainAction::Reboot,
            ListAction::ForceOff => DomainAction::ForceOff,
            ListAction::Reset => DomainAction::Reset,
            ListAction::Save => DomainAction::ManagedSave,
            ListAction::Delete
            | ListAction::Open
            | ListAction::TakeSnapshot
            | ListAction::Snapshots
            | ListAction::Clone
            | ListAction::Migrate => return None,
        })
    }

    /// "Could not start “vm”: <libvirt's words>".
    pub fn failure_text(self, name: &str, error: &str) -> String {
        let template = match self {
            ListAction::Start => gettext("Could not start “{name}”: {error}"),
            ListAction::Pause => gettext("Could not pause “{name}”: {error}"),
            ListAction::Resume => gettext("Could not resume “{name}”: {error}"),
            ListAction::Shutdown => gettext("Could not shut down “{name}”: {error}"),
            ListAction::Reboot => gettext("Could not reboot “{name}”: {error}"),
            ListAction::ForceOff => gettext("Could not force off “{name}”: {error}"),
            ListAction::Reset => gettext("Could not reset “{name}”: {error}"),
            ListAction::Save => gettext("Could not save “{name}”: {error}"),
            ListAction::Delete => gettext("Could not delete “{name}”: {error}"),
            ListAction::Open | ListAction::Snapshots => gettext("Could not open “{name}”: {error}"),
            ListAction::TakeSnapshot => gettext("Could not take a snapshot of “{name}”: {error}"),
            ListAction::Clone => gettext("Could not clone “{name}”: {error}"),
            ListAction::Migrate => gettext("Could not move “{name}”: {error}"),
        };
        template.replace("{name}", name).replace("{error}", error)
    }

    /// The confirmation question of a destructive action on `names`.
    pub fn confirmation(self, names: &[String]) -> (String, String, String) {
        let who = names.join(", ");
        match self {
            ListAction::ForceOff => (
                gettext_f("Force Off “{names}”?", &[("names", &who)]),
                gettext("The machine stops at once, as if its power cord were pulled. Unsaved work inside it is lost."),
                gettext("_Force Off"),
            ),
            _ => (
                gettext_f("Reset “{names}”?", &[("names", &who)]),
                gettext("The machine restarts at once without shutting down. Unsaved work inside it is lost."),
                gettext("_Reset"),
            ),
        }
    }
}

/// The menu of VM actions, shared by the list's context menu and a VM tab's menu.
pub fn menu_model() -> gio::MenuModel {
    gtk::Builder::from_resource("/io/github/vireo/Vireo/ui/vm-menu.ui")
        .object("vm_menu")
        .expect("vm-menu.ui defines vm_menu")
}

/// Runs `action` on each VM it applies to, one after another; returns the failures'
/// messages for toasts.
pub async fn run_on(action: ListAction, domains: Vec<DomainObject>) -> Vec<String> {
    let mut failures = Vec::new();
    let Some(domain_action) = action.to_domain_action() else {
        return failures;
    };
    for domain in domains.into_iter().filter(|d| action.applies_to(d.state())) {
        let Some(connection) = domain.connection() else {
            continue;
        };
        if let Err(error) = connection.run_action(&domain, domain_action.clone()).await {
            tracing::warn!("{:?} on {} failed: {error}", action, domain.name());
            let error = crate::model::error_text(&error);
            failures.push(action.failure_text(&domain.name(), &error));
        }
    }
    failures
}

/// Spawns `run_on` and reports failures through `toast`.
pub fn spawn_run(action: ListAction, domains: Vec<DomainObject>, toast: impl Fn(&str) + 'static) {
    glib::spawn_future_local(async move {
        for failure in run_on(action, domains).await {
            toast(&failure);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use DomainState::*;

    #[test]
    fn shut_off_vm_can_run_but_not_shut_down() {
        assert!(ListAction::Start.enabled_for(&[Shutoff]));
        assert!(!ListAction::Shutdown.enabled_for(&[Shutoff]));
        assert!(!ListAction::Pause.enabled_for(&[Shutoff]));
        assert!(!ListAction::ForceOff.enabled_for(&[Shutoff]));
        assert!(ListAction::Delete.enabled_for(&[Shutoff]));
    }

    #[test]
    fn running_vm_can_pause_shut_down_and_force_off() {
        for action in [
            ListAction::Pause,
            ListAction::Shutdown,
            ListAction::Reboot,
            ListAction::ForceOff,
            ListAction::Reset,
            ListAction::Save,
        ] {
            assert!(action.enabled_for(&[Running]), "{action:?}");
        }
        assert!(!ListAction::Start.enabled_for(&[Running]));
        assert!(!ListAction::Resume.enabled_for(&[Running]));
    }

    #[test]
    fn paused_vm_resumes() {
        assert!(ListAction::Resume.enabled_for(&[Paused]));
        assert!(!ListAction::Pause.enabled_for(&[Paused]));
    }

    #[test]
    fn a_mixed_selection_enables_what_applies_to_any() {
        assert!(ListAction::Start.enabled_for(&[Running, Shutoff]));
        assert!(ListAction::Shutdown.enabled_for(&[Running, Shutoff]));
        assert!(!ListAction::Start.enabled_for(&[]));
    }

    #[test]
    fn snapshot_clone_and_move_act_on_one_vm() {
        assert!(ListAction::TakeSnapshot.enabled_for(&[Running]));
        assert!(ListAction::Clone.enabled_for(&[Shutoff]));
        assert!(!ListAction::Clone.enabled_for(&[Shutoff, Shutoff]));
        assert!(!ListAction::TakeSnapshot.enabled_for(&[Crashed]));
        assert!(ListAction::Migrate.enabled_for(&[Paused]));
    }

    #[test]
    fn failures_carry_libvirts_words() {
        let text = ListAction::Start.failure_text(
            "web",
            "Requested operation is not valid: domain is already running",
        );
        assert!(text.contains("web") && text.ends_with("domain is already running"));
    }
}
